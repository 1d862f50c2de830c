"""P5 sweeps: axe-core on every page of the access matrix, as the profiles that reach it, and the error summary.

- The back-office: every admin page the caisse's agent and the national administrator reach (a 200 in
  tests/portal/test_access_matrix.py), add forms submitted empty (their errors shown) and change forms with
  their inlines: no serious or critical violation.
- The portal: every page at 320 px and 1280 px, for the profiles that reach it: no serious or critical
  violation, the reading order is the visual one (no CSS `order` nor `*-reverse` redrawing content), and at
  1280 px the history table fits its container.
- A form submitted with errors: the focus on the summary, the title prefixed with "Erreur : ".

Fast on purpose: the matrix's world is built once for the module (pytest-django's per-test transaction is
replaced, the database flushed at the module's end), each profile signs in once (its session cookie given to
its own browser context), one page per profile reused by every test. Each URL is its own test id.
"""

import uuid
from datetime import date

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from playwright.sync_api import expect

from conventions.models import Caisse, Referent
from requests_app import services as demande_services
from requests_app.models import DemandeKind
from tests.e2e.conftest import assert_no_serious_axe_violation
from tests.portal import test_access_matrix as matrix

ADMIN_PROFILES = ("agent", "administrateur")
PORTAL_PROFILES = ("anonyme", "technicien", "gestionnaire", "technicien_sans_2fa", "agent", "administrateur")
WIDTHS = (320, 1280)
HEIGHT = 900
# Answers that are files or JSON, not pages.
NOT_PAGES = frozenset(
    {
        "admin:autocomplete",
        "admin:jsi18n",
        "accounts_export",
        "demandes_export",
        "document_download",
        "piece_download",
        "ticket_attachment",
        "healthz",
    }
)
# Pages drawn differently for each profile: swept for each one that reaches them.
PER_PROFILE = frozenset({"home", "password_change", "demandes"})
# Add forms submitted empty: their errors (and the agent's choice widgets) shown.
EMPTY_ADD_FORMS = (
    ("agent", "admin:portal_maintenancenotice_add"),
    ("agent", "admin:conventions_conventionmetier_add"),
    ("agent", "admin:accounts_habilitationrequest_add"),
    ("administrateur", "admin:conventions_caisse_add"),
    ("administrateur", "admin:conventions_conventionutilisation_add"),
    ("administrateur", "admin:portal_documentpartenaire_add"),
)


def _shown(cell) -> bool:
    return cell in (200, 410)  # 410: an expired or unknown link has its own page


def admin_cases():
    cases = []
    for key in sorted(matrix.EXPECTED):
        if not key.startswith("admin") or key in NOT_PAGES:
            continue
        cases += [pytest.param(p, key, id=f"{p}-{key}") for p in ADMIN_PROFILES if matrix.EXPECTED[key][p] == 200]
    return cases


def portal_cases():
    cases = []
    for key in sorted(matrix.EXPECTED):
        if key.startswith("admin") or key in NOT_PAGES:
            continue
        row = matrix.EXPECTED[key]
        profiles = [p for p in PORTAL_PROFILES if _shown(row[p])]
        if key not in PER_PROFILE:
            profiles = profiles[:1]
        cases += [pytest.param(p, key, width, id=f"{width}px-{p}-{key}") for p in profiles for width in WIDTHS]
    return cases


# --- The module's world, browser contexts and pages -------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_world(django_db_setup, django_db_blocker, live_server, tmp_path_factory):
    """The access matrix's world, built once; a few more requests so that the history has long rows."""
    media = tmp_path_factory.mktemp("media")
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    overrides = override_settings(STORAGES=storages, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock():
        overrides.enable()
        try:
            world = matrix.build_world()
            add_long_requests(world)
            yield world
        finally:
            call_command("flush", interactive=False, verbosity=0)
            overrides.disable()


def add_long_requests(world):
    """The longest names the history shows: a caisse's full name, a compound insured name, every kind."""
    caisse = Caisse.objects.get(pk=world["parameters"]["caisse_id"])
    Caisse.objects.filter(pk=caisse.pk).update(name="Caisse primaire d'assurance maladie des Alpes-de-Haute-Provence")
    caisse.refresh_from_db()
    for position, name in enumerate(["Claire Dubois", "Yves Martin"], start=1):  # rows of the caisse's inline
        Referent.objects.create(
            caisse=caisse, position=position, full_name=name, role="Référente partenariats", phone="03 20 00 00 00"
        )
    for kind in (DemandeKind.CONTACT, DemandeKind.SIGNALEMENT):
        demande_services.submit_demande(
            user=world["users"]["technicien"],
            caisse=caisse,
            kind=kind,
            fields={
                "assure_civilite": "mme",
                "assure_last_name": "De La Fontaine-Beauregard",
                "assure_first_name": "Marie-Bernadette",
                "assure_birth_date": date(1950, 1, 31),
                "assure_departement": "04",
                "nature": "rupture_droits",
                "urgency": "normale",
            },
            message="Bonjour, merci de rappeler la personne.",
            form_token=uuid.uuid4(),
        )


@pytest.fixture(autouse=True)
def _live_server_helper(sweep_world, django_db_blocker, live_server):
    """Replaces pytest-django's helper of the same name, which wraps each test in transactional_db (a flush after
    every test): here the module's world stays from one test to the next. The live server still gets its
    settings, and the database is open to it during each test."""
    live_server._live_server_modified_settings.enable()
    with django_db_blocker.unblock():
        yield
    live_server._live_server_modified_settings.disable()


@pytest.fixture(scope="module")
def page_of(browser, sweep_world, live_server, django_db_blocker):
    """One French browser context per profile, signed in once (its session cookie), and its one page."""
    pages, contexts = {}, []

    def page_for(profile):
        if profile not in pages:
            context = browser.new_context(locale="fr-FR", base_url=live_server.url)
            context.set_default_timeout(10_000)
            contexts.append(context)
            if profile != "anonyme":
                client = Client()
                with django_db_blocker.unblock():
                    matrix.sign_in(client, sweep_world, profile)
                cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
                context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
            pages[profile] = context.new_page()
        return pages[profile]

    yield page_for
    for context in contexts:
        context.close()


def path_of(key, world):
    route, pattern = matrix.resolver_urls()[key]
    return matrix.concrete_path(key, route, pattern, world)


def open_page(page, path, expected_status=200):
    response = page.goto(path)
    assert response is not None and response.status == expected_status, f"{path} : {response and response.status}"
    return page


# The reading order: in <main>, no flex or grid container whose visible children are drawn in another order than
# the code's (CSS `order` differing between them, or a `*-reverse` direction).
READING_ORDER_FAULTS = """
() => {
  const faults = [];
  for (const box of document.querySelectorAll("main *")) {
    const style = getComputedStyle(box);
    if (!/flex|grid/.test(style.display)) continue;
    const children = [...box.children].filter((child) => {
      const s = getComputedStyle(child);
      return s.display !== "none" && s.position !== "absolute" && child.getClientRects().length > 0;
    });
    if (children.length < 2) continue;
    const orders = children.map((child) => Number(getComputedStyle(child).order));
    const sorted = [...orders].sort((a, b) => a - b);
    const reordered = orders.some((value, index) => value !== sorted[index]);
    const reversed = /reverse/.test(style.flexDirection);
    if (reordered || reversed) faults.push(box.outerHTML.slice(0, 160));
  }
  return faults;
}
"""

HISTORY_WIDTHS = """
() => {
  const table = document.querySelector("#liste-demandes table");
  const wrapper = document.querySelector("#liste-demandes .fr-table__wrapper");
  return {table: table.scrollWidth, wrapper: wrapper.clientWidth, page: document.documentElement.scrollWidth,
          viewport: document.documentElement.clientWidth};
}
"""


# --- The back-office ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "key"), admin_cases())
def test_p5_admin_page_has_no_serious_axe_violation(page_of, sweep_world, profile, key):
    page = open_page(page_of(profile), path_of(key, sweep_world))
    page.set_viewport_size({"width": 1280, "height": HEIGHT})
    assert_no_serious_axe_violation(page)


@pytest.mark.parametrize(("profile", "key"), [pytest.param(p, k, id=f"{p}-{k}") for p, k in EMPTY_ADD_FORMS])
def test_p5_admin_add_form_submitted_empty_has_no_serious_axe_violation(page_of, sweep_world, profile, key):
    page = open_page(page_of(profile), path_of(key, sweep_world))
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert_no_serious_axe_violation(page)


def test_p5_admin_change_form_with_inlines_and_errors_has_no_serious_axe_violation(page_of, sweep_world):
    """The caisse's page (its référents as tabular rows, inputs named per row) saved with its name emptied."""
    page = open_page(page_of("agent"), path_of("admin:conventions_caisse_change", sweep_world))
    expect(page.get_by_label("Nom et prénom (référent local, ligne 2)")).to_have_value("Yves Martin")
    page.locator("#id_name").fill("")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.get_by_label("Fonction (référent local, ligne 1)")).to_be_visible()
    assert_no_serious_axe_violation(page)


# --- The portal ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "key", "width"), portal_cases())
def test_p5_portal_page_has_no_serious_axe_violation_and_reads_in_order(page_of, sweep_world, profile, key, width):
    page = page_of(profile)
    page.set_viewport_size({"width": width, "height": HEIGHT})
    expected = matrix.EXPECTED[key][profile]
    open_page(page, path_of(key, sweep_world), expected)
    assert_no_serious_axe_violation(page)
    assert page.evaluate(READING_ORDER_FAULTS) == []


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_p5_history_table_fits_its_container_from_1280_px(page_of, sweep_world, width):
    page = page_of("technicien")
    page.set_viewport_size({"width": width, "height": HEIGHT})
    open_page(page, reverse("demandes"))
    expect(page.locator("#liste-demandes tbody tr")).to_have_count(3)
    widths = page.evaluate(HISTORY_WIDTHS)
    assert widths["table"] <= widths["wrapper"], widths
    assert widths["page"] <= widths["viewport"], widths


def test_p5_history_stays_usable_at_320_px(page_of, sweep_world):
    """At 320 px the table scrolls inside its own frame, never the page."""
    page = page_of("technicien")
    page.set_viewport_size({"width": 320, "height": 640})
    open_page(page, reverse("demandes"))
    widths = page.evaluate(HISTORY_WIDTHS)
    assert widths["page"] <= widths["viewport"], widths
    reference = page.locator("#liste-demandes tbody tr").first.get_by_role("link")
    reference.focus()
    expect(reference).to_be_focused()


# --- Forms that announce their errors -----------------------------------------------------------------------


def test_p5_form_with_errors_focuses_its_summary_and_titles_the_page(page_of, sweep_world):
    page = page_of("technicien")
    page.set_viewport_size({"width": 1280, "height": HEIGHT})
    caisse_id = sweep_world["parameters"]["caisse_id"]
    open_page(page, reverse("demande_new", args=[caisse_id, DemandeKind.CONTACT.value]))
    assert not page.title().startswith("Erreur")
    birth_date = page.get_by_label("Date de naissance")
    expect(birth_date).to_have_attribute("type", "text")
    expect(page.get_by_text("Format attendu : JJ/MM/AAAA")).to_be_visible()
    birth_date.fill("31/02/1990")
    page.get_by_role("button", name="Envoyer la demande").click()

    summary = page.locator("#resume-erreurs")
    expect(summary).to_be_focused()
    assert page.title().startswith("Erreur : ")
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire comporte 6 erreurs")
    expect(summary.get_by_role("link", name="Date de naissance : Cette date n'existe pas")).to_be_visible()
    expect(birth_date).to_have_value("31/02/1990")  # what was typed stays

    summary.get_by_role("link", name="Civilité").click()
    expect(page.locator("#id_assure_civilite_0")).to_be_focused()
    summary.focus()
    summary.get_by_role("link", name="Date de naissance").click()
    expect(birth_date).to_be_focused()
    assert_no_serious_axe_violation(page)


def test_p5_login_error_is_summarised_and_focused(page_of, sweep_world):
    page = page_of("anonyme")
    open_page(page, reverse("login"))
    page.locator("#id_username").fill("personne")
    page.locator("#id_password").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    summary = page.locator("#resume-erreurs")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Identifiant ou mot de passe incorrect")
    assert page.title().startswith("Erreur : ")
