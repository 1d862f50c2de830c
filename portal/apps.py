from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portail"

    def ready(self):
        from . import (
            personal_data,  # noqa: F401  (its entries in the catalogue of personal data, A15)
            signals,  # noqa: F401  (journal of logins and failures)
        )
