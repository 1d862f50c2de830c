"""Logins, failures and logouts go to the audit journal (P4)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import User
from core import audit
from core.models import Action


@receiver(user_logged_in)
def journal_login(sender, request, user, **kwargs):
    audit.record(Action.LOGIN, actor=user, target=user, request=request)


@receiver(user_logged_out)
def journal_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(Action.LOGOUT, actor=user, target=user, request=request)


@receiver(user_login_failed)
def journal_login_failed(sender, credentials, request=None, **kwargs):
    # Tied to the account when the identifier is one; an unknown identifier is not kept (it may be a
    # password typed in the wrong field).
    account = User.objects.filter(username=str(credentials.get("username", ""))[:150]).first()
    audit.record(Action.LOGIN_FAILED, target=account, request=request, details={} if account else {"inconnu": True})
