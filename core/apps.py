from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The base every app builds on; it imports no app of the project."""

    name = "core"
    verbose_name = "Socle"

    def ready(self):
        from . import (
            lookups,  # noqa: F401  (field__any=[…], one array parameter)
            personal_data_core,  # noqa: F401  (the journal's and the outbox's entries, A15)
        )
