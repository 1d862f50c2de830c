from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Django's backend, refusing demo accounts outside development deployments."""

    def user_can_authenticate(self, user):
        if getattr(user, "is_demo", False) and not settings.DEBUG:
            return False
        return super().user_can_authenticate(user)
