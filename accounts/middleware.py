"""The gate every signed-in request passes (A7, A8, A17), in this order:

1. two-factor verification (enrolment first if the account has no device), so that nothing below can be
   done with a password alone;
2. an expired password must be changed;
3. the current CGU must be accepted (partner accounts).
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from . import cgu, passwords, two_factor

# Pages a signed-in user reaches whatever the gate says: the gate's own pages and the way out.
EXEMPT_URL_NAMES = frozenset(
    {
        "logout",
        "healthz",
        "two_factor_setup",
        "two_factor_verify",
        "two_factor_backup_codes",
        "password_expired",
        "cgu",
        "activate",
        "password_reset",
        "password_reset_confirm",
    }
)


def gate_for(user) -> str | None:
    """The URL name the user must go through first, or None when nothing stands in the way."""
    if two_factor.is_required(user) and not user.is_verified():
        return "two_factor_verify" if two_factor.has_confirmed_device(user) else "two_factor_setup"
    if passwords.is_expired(user, timezone.now()):
        return "password_expired"
    if cgu.must_accept(user):
        return "cgu"
    return None


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and not self._exempt(request.path_info):
            target = gate_for(request.user)
            if target:
                return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        try:
            return resolve(path).url_name in EXEMPT_URL_NAMES
        except Resolver404:
            return True  # static files and unknown pages: nothing to protect
