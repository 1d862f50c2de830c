from . import admin_lexicon  # noqa: F401
