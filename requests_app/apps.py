from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Demandes"

    def ready(self):
        from . import personal_data  # noqa: F401  (its entries in the catalogue of personal data, A15)
