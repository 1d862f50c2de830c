"""Logins, failures and logouts go to the audit journal (P4)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .models import Action


@receiver(user_logged_in)
def journal_login(sender, request, user, **kwargs):
    audit.record(Action.LOGIN, actor=user, target=user, request=request)


@receiver(user_logged_out)
def journal_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(Action.LOGOUT, actor=user, target=user, request=request)


@receiver(user_login_failed)
def journal_login_failed(sender, credentials, request=None, **kwargs):
    # The typed identifier is kept (never the password) to spot attacks on one account.
    audit.record(
        Action.LOGIN_FAILED,
        request=request,
        details={"identifiant": str(credentials.get("username", ""))[:150]},
    )
