"""Security headers, session lifetime and login lockout (A13, A17; ASVS V2, V3, V14).

- `ContentSecurityPolicyMiddleware`: django-csp 4 whose nonce any template that asks for it gets.
- `PermissionsPolicyMiddleware`: the browser features the portal never uses are switched off.
- `SessionLifetimeMiddleware`: a session ends after `SESSION_IDLE_TIMEOUT_MINUTES` without a request
  and, whatever the activity, `SESSION_COOKIE_AGE` seconds after the login.
- django-axes' pieces: the backend, the handler, the identifier kept and the French lockout page (the
  client address is the audit journal's, `core.audit_context.client_ip`).
"""

from datetime import timedelta
from functools import partial

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

# --- Headers ------------------------------------------------------------------------------------------


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp 4, with a nonce that `{% if nonce %}` sees.

    django-csp's lazy nonce is false until it is read, so django-dsfr's `{% if self.nonce %}` would leave
    its script tags without one. A plain `SimpleLazyObject` makes the test itself create the nonce: a
    page that renders a script tag carries the nonce in the tag and in the header, a page without one
    (a file, a redirect) needs none.
    """

    def process_request(self, request):
        request.csp_nonce = SimpleLazyObject(partial(self._make_nonce, request))


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` from the `PERMISSIONS_POLICY` setting ({feature: [allowed origins]}).

    Django's SecurityMiddleware already sends nosniff, Referrer-Policy, Cross-Origin-Opener-Policy and
    HSTS; XFrameOptionsMiddleware sends X-Frame-Options. This adds the features switch and
    `Cross-Origin-Resource-Policy` (no other site may embed the portal's files).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        if settings.CROSS_ORIGIN_RESOURCE_POLICY:
            response.headers.setdefault("Cross-Origin-Resource-Policy", settings.CROSS_ORIGIN_RESOURCE_POLICY)
        return response


# --- Session lifetime ---------------------------------------------------------------------------------

LOGIN_AT_KEY = "_portal_login_at"
LAST_ACTIVITY_KEY = "_portal_last_activity"
# The last activity is written at most this often: not one session save per request.
ACTIVITY_RESOLUTION_SECONDS = 60


def _now() -> int:
    return int(timezone.now().timestamp())


@receiver(user_logged_in, dispatch_uid="core.security.stamp_login")
def stamp_login(sender, request, user, **kwargs):
    """The absolute lifetime counts from the login (Django's login keeps the session's data)."""
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[LOGIN_AT_KEY] = now
        request.session[LAST_ACTIVITY_KEY] = now


def session_end_reason(session, now: int) -> str | None:
    """ "idle", "absolute" or None while the session may go on."""
    login_at = session.get(LOGIN_AT_KEY)
    if login_at is not None and now - login_at >= settings.SESSION_COOKIE_AGE:
        return "absolute"
    last = session.get(LAST_ACTIVITY_KEY)
    if last is not None and now - last >= settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
        return "idle"
    return None


def session_end_message(reason: str) -> str:
    if reason == "idle":
        minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
        return f"Votre session a expiré après {minutes} minutes d'inactivité. Reconnectez-vous pour continuer."
    hours = settings.SESSION_COOKIE_AGE // 3600
    return f"Votre session a expiré : elle dure au plus {hours} heures. Reconnectez-vous pour continuer."


class SessionLifetimeMiddleware:
    """Idle timeout and absolute lifetime of a signed-in session (ASVS V3.3).

    After AuthenticationMiddleware and MessageMiddleware, before the account gate: an expired session
    goes to the login page with a French message, whatever page it asked for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = _now()
            reason = session_end_reason(request.session, now)
            if reason:
                logout(request)
                messages.warning(request, session_end_message(reason))
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(LAST_ACTIVITY_KEY, 0) >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY_KEY] = now
        response = self.get_response(request)
        # A session signed in before this middleware's module was loaded (no login stamp): it starts now.
        if request.user.is_authenticated and LOGIN_AT_KEY not in request.session:
            stamp_login(None, request, request.user)
        return response


# --- Login lockout (django-axes) ----------------------------------------------------------------------


class LoginAttemptsBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first of AUTHENTICATION_BACKENDS, before `accounts.backends.PortalBackend`.

    Every login form of the portal and of the back-office passes the request. A call without one has no
    client to count (Django's test client `login()`): axes would raise; it is left to the next backends.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginAttemptsHandler(AxesDatabaseHandler):
    """A successful login forgets the failures of its own account only.

    Axes' own reset also deletes every failure from the same address, whatever the account: one's own
    valid login between guesses would then reset the count against someone else's account.
    """

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_username(request, credentials) -> str | None:
    """What axes keeps of the identifier typed: a keyed hash (it may be a password typed in the wrong field)."""
    username = (credentials or {}).get("username")
    if username is None and request is not None and request.method == "POST":
        username = request.POST.get("username")
    if not username:
        return None
    # The key keeps the module's first name: the failures already counted stay tied to their accounts.
    return salted_hmac("portal.security.lockout_username", str(username)).hexdigest()


def lockout_response(request, original_response=None, credentials=None):
    """HTTP 429, French, the same for any identifier: never says whether the account exists."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if isinstance(cool_off, timedelta) else None
    return render(
        request,
        "portal/lockout.html",
        {"title": "Connexion temporairement bloquée", "cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
