from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from conventions.continuity import channels_for

from .content import current_notices
from .views import caisses_for


def site(request):
    """Header and footer texts from settings (django-dsfr's own processor reads a row on every page)."""
    return {
        "SITE_CONFIG": SimpleNamespace(
            site_title=settings.PORTAL_SITE_TITLE,
            site_tagline=settings.PORTAL_SITE_TAGLINE,
            operator_name=settings.PORTAL_OPERATOR_NAME,
            state_branding=settings.PORTAL_STATE_BRANDING,
            header_brand_html="République<br>française",
            footer_brand_html="République<br>française",
        )
    }


def maintenance_notices(request):
    """P1: the current maintenance notices, for the banner under the header.

    Lazy: the one indexed query runs only when a template shows the banner (never for a page without it).
    """
    user = getattr(request, "user", None)
    notices = SimpleLazyObject(lambda: current_notices(user))
    return {
        "maintenance_notices": notices,
        "maintenance_interrupts": SimpleLazyObject(lambda: any(notice.interrupting for notice in notices)),
        # P8: shown under a notice that interrupts the portal, read only then.
        "fallback_channels": SimpleLazyObject(
            lambda: channels_for(caisses_for(user if user is not None else AnonymousUser()))
        ),
    }
