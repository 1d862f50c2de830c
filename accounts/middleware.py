"""The gate every signed-in request passes (A7, A8, A17), in this order:

1. two-factor verification (enrolment first if the account has no device), so that nothing below can be
   done with a password alone;
2. an expired password must be changed;
3. the current CGU must be accepted (partner accounts).

A gate page opens only once the steps before it are done: the CGU cannot be accepted, nor the password
changed, before the second factor.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from . import cgu, passwords, two_factor

# Pages open whatever the gate says: the way out, and the emailed links that work signed out.
ALWAYS_OPEN = frozenset({"logout", "healthz", "activate", "activate_renew", "password_reset", "password_reset_confirm"})
# The gate's own pages, by step.
STEP_OF_PAGE = {
    "two_factor_setup": 0,
    "two_factor_verify": 0,
    "two_factor_backup_codes": 0,
    "two_factor_link": 0,
    "password_expired": 1,
    "cgu": 2,
}
STEP_OF_TARGET = {"two_factor_setup": 0, "two_factor_verify": 0, "password_expired": 1, "cgu": 2}


def gate_for(user) -> str | None:
    """The URL name the user must go through first, or None when nothing stands in the way."""
    if two_factor.is_required(user) and not user.is_verified():
        return "two_factor_verify" if two_factor.has_confirmed_device(user) else "two_factor_setup"
    if passwords.is_expired(user, timezone.now()):
        return "password_expired"
    if cgu.must_accept(user):
        return "cgu"
    return None


def _url_name(path: str) -> str | None:
    try:
        return resolve(path).url_name
    except Resolver404:
        return None


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            name = _url_name(request.path_info)
            if name is not None and name not in ALWAYS_OPEN:
                target = gate_for(request.user)
                if target and STEP_OF_PAGE.get(name, 99) > STEP_OF_TARGET[target]:
                    query = urlencode({"next": request.get_full_path()})
                    return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)
