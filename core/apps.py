from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The base every app builds on; it imports no app of the project."""

    name = "core"
    verbose_name = "Socle"
