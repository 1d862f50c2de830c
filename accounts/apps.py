from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes et habilitations"

    def ready(self):
        from . import personal_data  # noqa: F401  (its entries in the catalogue of personal data, A15)
        from .permissions import sync_agent_group

        # No sender: the conventions permissions appear only when their own app has migrated.
        post_migrate.connect(sync_agent_group, dispatch_uid="accounts_sync_agent_group")
