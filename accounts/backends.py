from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from .models import User


class PortalBackend(ModelBackend):
    """Django's backend, plus: demo accounts only in development, nobody of a suspended structure (A13).

    Django asks `get_user` on every request, so an inactivated account or a suspended structure loses
    access at its very next request, whatever sessions it holds.
    """

    def user_can_authenticate(self, user):
        if getattr(user, "is_demo", False) and not settings.DEBUG:
            return False
        partenaire = getattr(user, "partenaire", None)
        if partenaire is not None and partenaire.is_suspended:
            return False
        return super().user_can_authenticate(user)

    def get_user(self, user_id):
        user = User.objects.select_related("partenaire", "caisse").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
