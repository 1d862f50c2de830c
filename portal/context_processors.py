from types import SimpleNamespace

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .content import current_notices


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
    return {"maintenance_notices": SimpleLazyObject(lambda: current_notices(user))}
