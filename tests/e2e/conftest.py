"""Browser tests: pytest-playwright drives Debian's Chromium against pytest-django's live_server.

One browser for the whole session (pytest-playwright's session-scoped `browser`), a fresh
context and page per test. Chromium missing -> every e2e test is skipped (a failure when CI=true).
"""

import io
import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
E2E_DIR = Path(__file__).resolve().parent
BLOCKING_IMPACTS = ("serious", "critical")
_AXE = Axe()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _require_chromium():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"Chromium introuvable ({CHROMIUM}) : les tests de bout en bout sont ignorés. "
            "Installez le paquet Debian « chromium » (`scripts/services.sh up`)."
        )


@pytest.fixture(autouse=True)
def _chromium_required():
    """Skip before any browser or database set-up when Debian's Chromium is absent."""
    _require_chromium()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A French browser, as the portal's users and the caisses' agents have (date pickers, file buttons)."""
    return {**browser_context_args, "locale": "fr-FR"}


@pytest.fixture
def upload_dir(tmp_path):
    """Where a test writes the files the browser attaches (outside the storage)."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's options (--headed, --slowmo…) plus Debian's Chromium and its flags."""
    _require_chromium()
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture
def demo_data(transactional_db, live_server, settings):
    """The real `load_demo_data` command. DEBUG stays on for the test: the command refuses to run
    without it, and PortalBackend refuses demo logins without it (the live server shares settings)."""
    settings.DEBUG = True
    call_command("load_demo_data", stdout=io.StringIO())
    mail.outbox.clear()  # the demo's own (its open problem told to the referent): each test counts its emails


@pytest.fixture
def context(context):
    """Fail in seconds rather than Playwright's 30 s: every page here answers at once."""
    context.set_default_timeout(10_000)
    return context


@pytest.fixture(scope="session")
def base_url(live_server):
    """Pages open relative to the live server. Also replaces pytest-playwright's own base_url
    fixture, a plugin-instance method that pytest 9 deprecates (an error under our filterwarnings)."""
    return live_server.url


@pytest.fixture
def submit_login_form(page):
    """Open /connexion/, fill "Identifiant" and "Mot de passe", press "Se connecter"."""

    def _submit(username: str, password: str):
        page.goto("/connexion/")
        # DSFR labels read "Identifiant *" (aria-hidden marker), and the fieldset
        # "Vos identifiants" also matches "identifiant": anchor the label's start.
        page.get_by_label(re.compile(r"^\s*Identifiant\b")).fill(username)
        page.get_by_label(re.compile(r"^\s*Mot de passe\b")).fill(password)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        return page

    return _submit


def current_totp_code(username: str) -> str:
    """The code the user's authenticator app shows now (the next one if this one was just used)."""
    import time

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t is not None and totp.t() <= device.last_t:
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def pass_gates(page):
    """After the password: the second factor, then the CGU when the portal asks for them."""

    def _pass(username: str):
        if "/2fa/verification/" in page.url:
            page.get_by_label(re.compile(r"^\s*Code")).fill(current_totp_code(username))
            page.get_by_role("button", name="Valider").click()
        if "/cgu/" in page.url:
            page.locator("label[for=id_accept]").click()  # the DSFR label covers its checkbox
            page.get_by_role("button", name="Accepter et continuer").click()
        return page

    return _pass


@pytest.fixture
def login(submit_login_form, pass_gates, page, settings):
    """Log in through the real forms (password, second factor, CGU); returns the page, on the home page."""

    def _login(username: str, password: str | None = None):
        submit_login_form(username, password or settings.DEMO_PASSWORD)
        pass_gates(username)
        expect(page).to_have_url("/")
        return page

    return _login


def assert_no_serious_axe_violation(page):
    """Run axe-core on the current page; fail on any violation of impact serious or critical."""
    violations = _AXE.run(page).response["violations"]
    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    lines = [f"axe : {len(blocking)} violation(s) grave(s) ou critique(s) sur {page.url}"]
    for violation in blocking:
        lines.append(f"- {violation['id']} ({violation['impact']}) : {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            targets = ", ".join(map(str, node["target"]))
            lines.append(f"    cible {targets} : {node['html'][:200]}")
    if blocking:
        pytest.fail("\n".join(lines))


@pytest.fixture
def axe():
    return assert_no_serious_axe_violation
