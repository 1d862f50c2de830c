from . import (
    admin_demandes,  # noqa: F401
    admin_lexicon,  # noqa: F401
)
