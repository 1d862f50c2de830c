from django.apps import AppConfig


class ConventionsConfig(AppConfig):
    name = "conventions"
    verbose_name = "Caisses, partenaires et conventions"

    def ready(self):
        from . import (
            continuity,  # noqa: F401  (P8: the fallback channels' copy rewritten on every change)
            personal_data,  # noqa: F401  (its entries in the catalogue of personal data, A15)
        )
