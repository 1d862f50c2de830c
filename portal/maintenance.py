"""P8: during an interrupting maintenance window or the incident mode, every partner page answers the French
maintenance page (HTTP 503, Retry-After); the back-office stays open to staff, and /healthz, static files and
the sign-in pages (staff must reach the back-office) stay open to all."""

from django.conf import settings
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone

from conventions.continuity import channels_for
from core.reliability import UNAVAILABLE, unavailable_response

from .continuity import current_interruption
from .views import caisses_for

OPEN_PAGES = frozenset(
    {
        "healthz",
        "login",
        "logout",
        "admin_login",
        "two_factor_verify",
        "two_factor_setup",
        "two_factor_backup_codes",
        "two_factor_link",
        "password_expired",
    }
)


def _is_open(request) -> bool:
    path = request.path_info
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    if path.startswith("/admin/"):
        # Signed out, the back-office sends to the sign-in (staff must get in); a partner gets the maintenance page.
        return not request.user.is_authenticated or request.user.is_staff
    try:
        return resolve(path).url_name in OPEN_PAGES
    except Resolver404:
        return False


class MaintenanceMiddleware:
    """Before the view, hence before anything is saved: a form posted in the window is not taken in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = timezone.now()
        try:
            interruption = None if _is_open(request) else current_interruption(now)
        except UNAVAILABLE:  # raised here, not in a view: Django would make it a 500
            return unavailable_response()
        if interruption is None:
            return self.get_response(request)
        fallback = channels_for(caisses_for(request.user))
        response = render(
            request, "portal/maintenance.html", {"interruption": interruption, "fallback": fallback}, status=503
        )
        response["Retry-After"] = str(interruption.retry_after(now))
        response["Cache-Control"] = "no-store"
        return response
