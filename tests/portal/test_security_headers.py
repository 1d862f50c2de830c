"""P5 and ASVS V14: the security headers, read on the real responses of the portal and the back-office.

CSP with a per-response nonce and no `unsafe-inline` for scripts, frame-ancestors 'none', nosniff,
Referrer-Policy, X-Frame-Options, Permissions-Policy, Cross-Origin-Opener-Policy; HSTS on HTTPS.
"""

import hashlib
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from core.uploads import CheckedFile
from portal import content
from portal.models import DocumentCategory, DocumentPartenaire
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.files import pdf

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DISABLED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")
# Inline styles of third-party templates that the policy refuses, each one given again by static/portal/admin.css.
REFUSED_AND_REPLACED = {"<p style='border-top: 0'>"}  # django-simple-history's history page


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineCode(HTMLParser):
    """The page's script tags, and what the policy would refuse: handlers, style elements and attributes."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_handlers: list[tuple[str, str]] = []
        self.inline_styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style":
            self.inline_styles.append("<style>")
        if "style" in attributes:
            self.inline_styles.append(f"<{tag} style={attributes['style']!r}>")
        self.inline_handlers += [(tag, name) for name in attributes if name.startswith("on")]


def script_tags(response) -> InlineCode:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser


def assert_security_headers(response):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["style-src"] == ["'self'"]
    assert directives["font-src"] == ["'self'"] and directives["connect-src"] == ["'self'"]
    script_src = directives["script-src"]
    assert script_src[0] == "'self'"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert all(source == "'self'" or source.startswith("'nonce-") for source in script_src)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    policy = {item.strip() for item in response["Permissions-Policy"].split(",")}
    assert {f"{feature}=()" for feature in DISABLED_FEATURES} <= policy
    return directives


def header_nonce(directives) -> str | None:
    nonces = [source[len("'nonce-") : -1] for source in directives["script-src"] if source.startswith("'nonce-")]
    assert len(nonces) <= 1
    return nonces[0] if nonces else None


def assert_every_script_is_allowed(response, directives) -> int:
    """Each <script> loads from the portal itself or carries the response's nonce; no inline handler, and
    no inline style (style-src 'self': the browser would ignore it)."""
    nonce = header_nonce(directives)
    tags = script_tags(response)
    for attributes in tags.scripts:
        src = attributes.get("src")
        if src is not None:
            assert src.startswith("/") and not src.startswith("//"), src
        else:
            assert nonce and attributes.get("nonce") == nonce, attributes
        if "nonce" in attributes:
            assert attributes["nonce"] == nonce, (attributes, nonce)
    assert tags.inline_handlers == []
    assert set(tags.inline_styles) <= REFUSED_AND_REPLACED, tags.inline_styles
    return sum(1 for attributes in tags.scripts if attributes.get("nonce") == nonce)


@pytest.fixture
def technicien():
    return UserFactory(partenaire=partner_with_access().convention_metier.partenaire)


@pytest.fixture
def administrateur():
    return UserFactory(administrateur=True)


def test_4_login_page_has_the_headers_and_its_dsfr_scripts_carry_the_nonce(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    directives = assert_security_headers(response)
    nonce = header_nonce(directives)
    assert nonce and len(nonce) >= 16
    # django-dsfr's two script tags (module and nomodule) carry the header's nonce.
    assert assert_every_script_is_allowed(response, directives) == 2


def test_4_the_nonce_changes_at_every_response(client):
    first = header_nonce(csp_directives(client.get(reverse("login"))))
    second = header_nonce(csp_directives(client.get(reverse("login"))))
    assert first and second and first != second


def test_4_portal_page_has_the_headers(client, technicien):
    verified_login(client, technicien)
    response = client.get(reverse("contacts"))
    assert response.status_code == 200
    directives = assert_security_headers(response)
    assert assert_every_script_is_allowed(response, directives) == 2


@pytest.mark.parametrize(
    "url_name", ["admin:index", "admin:accounts_user_changelist", "admin:portal_maintenancenotice_add"]
)
def test_4_admin_pages_have_the_headers_and_load_scripts_from_the_portal_only(client, administrateur, url_name):
    verified_login(client, administrateur)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    directives = assert_security_headers(response)
    assert_every_script_is_allowed(response, directives)
    assert script_tags(response).scripts, "the admin page loads its scripts"


@pytest.mark.parametrize("view", ["change", "history"])
def test_4_admin_change_and_history_pages_have_the_headers(client, administrateur, view):
    verified_login(client, administrateur)
    response = client.get(reverse(f"admin:accounts_user_{view}", args=[administrateur.pk]))
    assert response.status_code == 200
    assert_every_script_is_allowed(response, assert_security_headers(response))


def test_4_the_back_office_styles_are_files_not_inline(client, administrateur):
    """The admin's own additions (underlined breadcrumbs, full-width dashboard tables) come from a file."""
    verified_login(client, administrateur)
    response = client.get(reverse("admin:index"))
    assert '/static/portal/admin.css"' in response.content.decode()
    stylesheet = client.get("/static/portal/admin.css")
    assert stylesheet.status_code == 200
    assert b"#change-history + .paginator" in b"".join(stylesheet.streaming_content)
    stylesheet.close()


def test_4_error_page_has_the_headers(client, technicien):
    verified_login(client, technicien)
    response = client.get("/page-qui-n-existe-pas/")
    assert response.status_code == 404
    assert_every_script_is_allowed(response, assert_security_headers(response))


def test_4_file_download_is_an_attachment_with_nosniff_and_the_headers(client, technicien, private_media):
    data = pdf()
    document = content.save_document(
        DocumentPartenaire(caisse=None, title="Guide national", category=DocumentCategory.GUIDE),
        actor=UserFactory(administrateur=True),
        checked=CheckedFile(
            content=data,
            kind="pdf",
            mime="application/pdf",
            size=len(data),
            original_name="guide.pdf",
            sha256=hashlib.sha256(data).hexdigest(),
        ),
    )
    verified_login(client, technicien)
    response = client.get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    directives = assert_security_headers(response)
    assert header_nonce(directives) is None  # nothing on a file needs a nonce
    assert b"".join(response.streaming_content) == data


def test_4_hsts_is_sent_on_https_for_at_least_6_months(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    max_age = int(response["Strict-Transport-Security"].split(";")[0].split("=")[1])
    assert max_age >= 183 * 24 * 3600
    assert "includeSubDomains" in response["Strict-Transport-Security"]


def test_4_production_settings_send_hsts_for_a_year_and_keep_the_strict_policy():
    """DJANGO_DEBUG=false, as in production: HSTS one year, the same CSP (no 'unsafe-inline' for scripts)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'hsts': settings.SECURE_HSTS_SECONDS, 'sub': settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "'csp': {k: [str(v) for v in vs] for k, vs in settings.CONTENT_SECURITY_POLICY['DIRECTIVES'].items()}, "
        "'xfo': settings.X_FRAME_OPTIONS, 'referrer': settings.SECURE_REFERRER_POLICY, "
        "'nosniff': settings.SECURE_CONTENT_TYPE_NOSNIFF}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "x" * 20 + "-production-like-secret-key-for-the-check-" + "y" * 20,
            "DJANGO_ALLOWED_HOSTS": "portail.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["hsts"] >= 183 * 24 * 3600 and values["sub"] is True
    assert "'unsafe-inline'" not in values["csp"]["script-src"]
    assert values["csp"]["frame-ancestors"] == ["'none'"]
    assert (values["xfo"], values["referrer"], values["nosniff"]) == ("DENY", "same-origin", True)
