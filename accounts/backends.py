from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from .models import AccountState, User


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


def refusal_after_right_password(username: str, password: str) -> str | None:
    """Why an account whose password is right may not sign in (A13, A14, A7), in words its holder can act on;
    None when the password is wrong or the account unknown, so that nothing is told to who lacks it."""
    user = User.objects.select_related("partenaire").filter(username=username).first()
    if user is None or not user.has_usable_password() or not user.check_password(password):
        return None
    if getattr(user, "is_demo", False) and not settings.DEBUG:
        return None
    if user.partenaire is not None and user.partenaire.is_suspended:
        return (
            "L'accès de votre structure à l'Espace Partenaires est suspendu par la caisse. Pour en connaître la "
            "raison ou demander son rétablissement, contactez le référent Espace Partenaires de votre caisse."
        )
    if user.state == AccountState.INACTIVE:
        since = f" le {timezone.localtime(user.inactivated_at):%d/%m/%Y}" if user.inactivated_at else ""
        who = (
            "un gestionnaire de votre structure"
            if user.is_technicien
            else "le référent Espace Partenaires de votre caisse"
        )
        return f"Votre compte a été inactivé{since} : il ne permet plus de se connecter. Adressez-vous à {who}."
    if user.state == AccountState.INVITE:
        return (
            "Votre compte n'est pas encore activé : choisissez votre mot de passe avec le lien reçu par email "
            "(si le lien a expiré, demandez-en un nouveau depuis ce lien)."
        )
    return None
