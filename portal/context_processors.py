from types import SimpleNamespace

from django.conf import settings

# Built once: django-dsfr's own processor reads a database row on every page.
_SITE = SimpleNamespace(
    site_title=settings.PORTAL_SITE_TITLE,
    site_tagline=settings.PORTAL_SITE_TAGLINE,
    operator_name=settings.PORTAL_OPERATOR_NAME,
    state_branding=settings.PORTAL_STATE_BRANDING,
    header_brand_html="République<br>française",
    footer_brand_html="République<br>française",
    mourning=False,
)


def site(request):
    return {"SITE_CONFIG": _SITE}
