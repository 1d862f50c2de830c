"""P1 maintenance notices (banner, scoping, admin) and P2 documentation (page, downloads, checked uploads)."""

import hashlib
import re
import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Action, JournalEntry
from core.uploads import CheckedFile
from portal import content
from portal.context_processors import maintenance_notices
from portal.models import DocumentCategory, DocumentPartenaire, MaintenanceNotice
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access
from tests.requests_app.files import html, pdf, pdf_with_eicar, upload

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
STARTS = datetime(2027, 3, 13, 20, 0, tzinfo=PARIS)
ENDS = datetime(2027, 3, 14, 6, 0, tzinfo=PARIS)
STORED_NAME = re.compile(r"documentation/\d{4}/\d{2}/[0-9a-f]{32}\.pdf")


@pytest.fixture(autouse=True)
def _private_media(private_media):
    return private_media


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def caisse_a():
    return CaisseFactory(name="CPAM de Roubaix-Tourcoing")


@pytest.fixture
def caisse_b():
    return CaisseFactory(name="CPAM du Hainaut")


@pytest.fixture
def technicien_a(caisse_a):
    return UserFactory(partenaire=partner_with_access(caisse_a).convention_metier.partenaire)


@pytest.fixture
def technicien_b(caisse_b):
    return UserFactory(partenaire=partner_with_access(caisse_b).convention_metier.partenaire)


@pytest.fixture
def agent_a(caisse_a):
    return UserFactory(agent=True, caisse=caisse_a)


@pytest.fixture
def administrateur():
    return UserFactory(administrateur=True)


def notice(actor, caisse=None, title="Mise à jour du portail", **fields) -> MaintenanceNotice:
    fields = {"starts_at": STARTS, "ends_at": ENDS, **fields}
    return content.save_notice(
        MaintenanceNotice(caisse=caisse, title=title, message="Le portail sera indisponible.", **fields), actor=actor
    )


def page(client, user=None, url_name="contacts") -> str:
    if user is not None:
        verified_login(client, user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    return response.content.decode()


# --- P1: maintenance notices ------------------------------------------------------------------------------


def test_p1_notice_is_announced_7_days_ahead_and_shown_until_it_ends_not_after(client, administrateur):
    with time_machine.travel(STARTS - timedelta(days=30)):
        scheduled = notice(administrateur)
    assert scheduled.announce_from == STARTS - timedelta(days=7)
    assert scheduled.created_by == administrateur

    moments = {
        STARTS - timedelta(days=7, minutes=1): False,
        STARTS - timedelta(days=7): True,
        STARTS + timedelta(hours=3): True,
        ENDS - timedelta(minutes=1): True,
        ENDS: False,
        ENDS + timedelta(days=1): False,
    }
    for moment, shown in moments.items():
        with time_machine.travel(moment, tick=False):
            body = page(client, url_name="login")
        assert ("Mise à jour du portail" in body) is shown, moment
    with time_machine.travel(STARTS, tick=False):
        body = page(client, url_name="login")
    assert 'class="fr-notice fr-notice--info"' in body
    assert "Maintenance prévue du samedi 13 mars 2027 à 20h00 au dimanche 14 mars 2027 à 06h00" in body
    assert "Le portail sera indisponible." in body


def test_p1_an_explicit_announcement_date_is_kept(administrateur):
    scheduled = notice(administrateur, announce_from=STARTS - timedelta(days=1))
    assert scheduled.announce_from == STARTS - timedelta(days=1)
    assert list(MaintenanceNotice.objects.current_for(None, STARTS - timedelta(days=2))) == []
    assert list(MaintenanceNotice.objects.current_for(None, STARTS - timedelta(hours=1))) == [scheduled]


@time_machine.travel(STARTS, tick=False)
def test_p1_caisse_notice_is_shown_to_its_partners_and_agents_only(
    client, administrateur, caisse_a, technicien_a, technicien_b, agent_a
):
    notice(administrateur, caisse=caisse_a, title="Maintenance de la CPAM de Roubaix")
    assert "Maintenance de la CPAM de Roubaix" in page(client, technicien_a)
    assert "Maintenance de la CPAM de Roubaix" in page(client, agent_a)
    assert "Maintenance de la CPAM de Roubaix" not in page(client, technicien_b)
    client.logout()
    assert "Maintenance de la CPAM de Roubaix" not in page(client, url_name="login")


@time_machine.travel(STARTS, tick=False)
def test_p1_a_partner_whose_convention_ended_no_longer_sees_that_caisses_notices(client, administrateur, caisse_a):
    convention = partner_with_access(caisse_a)
    convention.convention_metier.end_date = timezone.localdate() - timedelta(days=1)
    convention.convention_metier.save()
    technicien = UserFactory(partenaire=convention.convention_metier.partenaire)
    notice(administrateur, caisse=caisse_a, title="Maintenance de la CPAM de Roubaix")
    assert "Maintenance de la CPAM de Roubaix" not in page(client, technicien)


@time_machine.travel(STARTS, tick=False)
def test_p1_national_notice_is_shown_to_everyone_including_the_login_page(
    client, administrateur, technicien_a, technicien_b, agent_a
):
    notice(administrateur, title="Maintenance nationale")
    assert "Maintenance nationale" in page(client, url_name="login")
    for user in (technicien_a, technicien_b, agent_a, administrateur):
        assert "Maintenance nationale" in page(client, user), user.profile


def test_p1_end_before_start_is_refused_in_french_by_the_model_and_the_database(administrateur):
    backwards = MaintenanceNotice(title="Erreur", message="…", starts_at=ENDS, ends_at=STARTS)
    with pytest.raises(ValidationError) as caught:
        backwards.full_clean()
    assert caught.value.message_dict["ends_at"] == ["La fin de la maintenance doit être postérieure à son début."]
    with pytest.raises(ValidationError):
        content.save_notice(backwards, actor=administrateur)
    backwards.announce_from = ENDS - timedelta(days=7)
    with pytest.raises(IntegrityError):
        backwards.save()  # the database holds the rule too


def admin_notice_form(caisse="", **overrides) -> dict:
    data = {
        "caisse": caisse,
        "title": "Mise à jour du portail",
        "message": "Le portail sera indisponible pendant la nuit.",
        "starts_at_0": "13/03/2027",
        "starts_at_1": "20:00",
        "ends_at_0": "14/03/2027",
        "ends_at_1": "06:00",
        "announce_from_0": "",
        "announce_from_1": "",
    }
    data.update(overrides)
    return data


def test_p1_admin_form_refuses_an_end_before_the_start_in_french(client, administrateur):
    verified_login(client, administrateur)
    response = client.post(reverse("admin:portal_maintenancenotice_add"), admin_notice_form(ends_at_0="12/03/2027"))
    assert response.status_code == 200
    assert "La fin de la maintenance doit être postérieure à son début." in response.content.decode()
    assert not MaintenanceNotice.objects.exists()


def test_p1_administrator_schedules_a_national_notice_in_the_admin(client, administrateur):
    verified_login(client, administrateur)
    response = client.post(reverse("admin:portal_maintenancenotice_add"), admin_notice_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    scheduled = MaintenanceNotice.objects.get()
    assert scheduled.caisse is None
    assert scheduled.starts_at == STARTS
    assert scheduled.announce_from == STARTS - timedelta(days=7)
    assert scheduled.created_by == administrateur
    changelist = client.get(reverse("admin:portal_maintenancenotice_changelist")).content.decode()
    assert "Toutes les caisses" in changelist
    assert "du 13/03/2027 20:00 au 14/03/2027 06:00" in changelist


def test_p1_agent_notices_are_forced_to_its_caisse(client, agent_a, caisse_a, caisse_b):
    verified_login(client, agent_a)
    url = reverse("admin:portal_maintenancenotice_add")
    for refused in ("", str(caisse_b.pk)):  # national, or another caisse
        response = client.post(url, admin_notice_form(caisse=refused))
        assert response.status_code == 200
        assert not MaintenanceNotice.objects.exists()
    assert client.post(url, admin_notice_form(caisse=str(caisse_a.pk))).status_code == 302
    assert MaintenanceNotice.objects.get().caisse == caisse_a
    # The service forces it too, whatever the caller.
    assert notice(agent_a).caisse == caisse_a
    with pytest.raises(PermissionDenied):
        notice(agent_a, caisse=caisse_b)


def test_p1_agent_neither_sees_nor_edits_another_caisses_notice_and_reads_national_ones(
    client, administrateur, agent_a, caisse_a, caisse_b
):
    own = notice(administrateur, caisse=caisse_a, title="Notre maintenance")
    other = notice(administrateur, caisse=caisse_b, title="Maintenance du Hainaut")
    national = notice(administrateur, title="Maintenance nationale")
    verified_login(client, agent_a)

    changelist = client.get(reverse("admin:portal_maintenancenotice_changelist")).content.decode()
    assert "Notre maintenance" in changelist
    assert "Maintenance nationale" in changelist
    assert "Maintenance du Hainaut" not in changelist

    for name in ("change", "delete", "history"):
        assert client.get(reverse(f"admin:portal_maintenancenotice_{name}", args=[other.pk])).status_code == 404
    assert client.post(reverse("admin:portal_maintenancenotice_change", args=[other.pk]), {}).status_code == 404

    read_only = client.get(reverse("admin:portal_maintenancenotice_change", args=[national.pk]))
    assert read_only.status_code == 200
    assert 'name="_save"' not in read_only.content.decode()
    posted = client.post(
        reverse("admin:portal_maintenancenotice_change", args=[national.pk]), admin_notice_form(title="Changé")
    )
    assert posted.status_code == 403
    # A bulk deletion that includes a national notice deletes nothing.
    client.post(
        reverse("admin:portal_maintenancenotice_changelist"),
        {"action": "delete_selected", "_selected_action": [own.pk, national.pk], "post": "yes"},
    )
    assert MaintenanceNotice.objects.filter(pk=national.pk).exists()
    national.refresh_from_db()
    assert national.title == "Maintenance nationale"

    changed = client.post(
        reverse("admin:portal_maintenancenotice_change", args=[own.pk]),
        admin_notice_form(caisse=str(caisse_a.pk), title="Notre maintenance, décalée"),
    )
    assert changed.status_code == 302
    own.refresh_from_db()
    assert own.title == "Notre maintenance, décalée"


def queries_of(client, url) -> list[str]:
    client.get(url)  # warm-up: per-process caches (content types, lexicon) out of the count
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("with_notice", [False, True])
@time_machine.travel(STARTS, tick=False)
def test_p1_the_banner_costs_one_query_per_page(
    client, settings, django_assert_num_queries, administrateur, caisse_a, technicien_a, with_notice
):
    if with_notice:
        notice(administrateur, caisse=caisse_a)
        notice(administrateur, title="Maintenance nationale")
    processor = "portal.context_processors.maintenance_notices"
    without = [{**engine, "OPTIONS": {**engine["OPTIONS"]}} for engine in settings.TEMPLATES]
    without[0]["OPTIONS"]["context_processors"] = [
        name for name in settings.TEMPLATES[0]["OPTIONS"]["context_processors"] if name != processor
    ]
    with_processor = settings.TEMPLATES

    for user, url in ((None, reverse("login")), (technicien_a, reverse("contacts"))):
        client.logout()
        if user is not None:
            verified_login(client, user)
        settings.TEMPLATES = without
        baseline = len(queries_of(client, url))
        settings.TEMPLATES = with_processor
        client.get(url)
        with django_assert_num_queries(baseline + 1) as captured:
            body = client.get(url).content.decode()
        # The maintenance middleware's own query (P8, a UNION with the incident mode) runs with or without it.
        banner_queries = [
            q["sql"]
            for q in captured.captured_queries
            if "portal_maintenancenotice" in q["sql"] and "UNION" not in q["sql"]
        ]
        assert len(banner_queries) == 1
        assert ("fr-notice" in body) is with_notice

    # Lazy: no query at all until a template shows the banner (admin pages, JSON, redirects…).
    request = RequestFactory().get("/")
    request.user = technicien_a
    with django_assert_num_queries(0):
        context = maintenance_notices(request)
    with django_assert_num_queries(1):
        assert len(context["maintenance_notices"]) == (2 if with_notice else 0)
        assert bool(context["maintenance_notices"]) is with_notice


# --- P2: documentation ------------------------------------------------------------------------------------


def checked_pdf(name="guide.pdf", data=None) -> CheckedFile:
    """A file as `check_upload` returns it (the checks themselves are exercised through the admin below)."""
    data = data or pdf()
    return CheckedFile(
        content=data,
        kind="pdf",
        mime="application/pdf",
        size=len(data),
        original_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def document(actor, caisse=None, title="Guide de l'Espace Partenaires", **fields) -> DocumentPartenaire:
    fields = {"category": DocumentCategory.GUIDE, **fields}
    return content.save_document(
        DocumentPartenaire(caisse=caisse, title=title, **fields), actor=actor, checked=checked_pdf(f"{title}.pdf")
    )


@pytest.fixture
def documents(administrateur, caisse_a, caisse_b):
    return {
        "national": document(administrateur, title="Guide national", category=DocumentCategory.GUIDE),
        "a": document(administrateur, caisse_a, title="Formulaire Roubaix", category=DocumentCategory.FORMULAIRE),
        "b": document(administrateur, caisse_b, title="Note du Hainaut", category=DocumentCategory.REGLEMENTAIRE),
        "draft": document(administrateur, caisse_a, title="Brouillon Roubaix", published=False),
    }


def test_p2_documentation_page_lists_what_each_profile_may_see(
    client, documents, technicien_a, technicien_b, agent_a, administrateur
):
    expected = {
        technicien_a: {"Guide national", "Formulaire Roubaix"},
        technicien_b: {"Guide national", "Note du Hainaut"},
        agent_a: {"Guide national", "Formulaire Roubaix"},
        administrateur: {"Guide national", "Formulaire Roubaix", "Note du Hainaut"},
    }
    every = {"Guide national", "Formulaire Roubaix", "Note du Hainaut", "Brouillon Roubaix"}
    for user, titles in expected.items():
        body = page(client, user, "documentation")
        shown = {title for title in every if title in body}
        assert shown == titles, user.profile
    body = page(client, technicien_a, "documentation")
    assert body.index("Guide d&#x27;utilisation</h2>") < body.index("Guide national") < body.index("Formulaire</h2>")
    assert reverse("document_download", args=[documents["a"].pk]) in body
    assert 'href="/documentation/"' in body and 'aria-current="page"' in body


def test_p2_documentation_page_requires_a_login(client, documents):
    for url in (reverse("documentation"), reverse("document_download", args=[documents["national"].pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_p2_download_gives_the_bytes_as_attachment_with_nosniff_and_journals(client, documents, technicien_a):
    verified_login(client, technicien_a)
    wanted = documents["a"]
    response = client.get(reverse("document_download", args=[wanted.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Formulaire Roubaix.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    entry = JournalEntry.objects.get(action=Action.DOCUMENT_DOWNLOADED)
    assert entry.actor == technicien_a
    assert (entry.target_type, entry.target_id) == ("portal.documentpartenaire", str(wanted.pk))


def test_p2_another_caisses_or_an_unpublished_document_is_a_404(client, documents, technicien_a, agent_a):
    for user in (technicien_a, agent_a):
        verified_login(client, user)
        for key in ("b", "draft"):
            assert client.get(reverse("document_download", args=[documents[key].pk])).status_code == 404
        assert client.get(reverse("document_download", args=[999_999])).status_code == 404
    assert not JournalEntry.objects.filter(action=Action.DOCUMENT_DOWNLOADED).exists()


def test_p2_files_are_stored_under_random_names_and_a_replaced_file_is_removed(
    administrateur, private_media, django_capture_on_commit_callbacks
):
    saved = document(administrateur, title="Guide")
    assert STORED_NAME.fullmatch(saved.file.name)
    assert saved.original_name == "Guide.pdf"
    assert saved.size == len(pdf())
    first = saved.file.name
    with django_capture_on_commit_callbacks(execute=True):
        content.save_document(saved, actor=administrateur, checked=checked_pdf("Guide v2.pdf", pdf(pages=2)))
    assert stored_files(private_media) == [saved.file.name] != [first]
    with django_capture_on_commit_callbacks(execute=True):
        content.delete_document(saved)
    assert stored_files(private_media) == []


def admin_document_form(file, caisse="", **overrides) -> dict:
    data = {
        "caisse": caisse,
        "title": "Guide de l'Espace Partenaires",
        "category": DocumentCategory.GUIDE,
        "description": "",
        "published": "on",
        "upload": file,
    }
    data.update(overrides)
    return data


def test_p2_admin_refuses_an_html_file_renamed_pdf_in_french(client, administrateur, private_media):
    verified_login(client, administrateur)
    response = client.post(
        reverse("admin:portal_documentpartenaire_add"),
        admin_document_form(upload("guide.pdf", html(), "application/pdf")),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "n&#x27;est pas accepté (type détecté : text/html)" in body
    assert not DocumentPartenaire.objects.exists()
    assert stored_files(private_media) == []


@pytest.mark.clamd
def test_p2_admin_refuses_an_infected_pdf(client, clamd_address, administrateur, private_media):
    verified_login(client, administrateur)
    response = client.post(
        reverse("admin:portal_documentpartenaire_add"), admin_document_form(upload("guide.pdf", pdf_with_eicar()))
    )
    assert response.status_code == 200
    assert "contient un virus" in response.content.decode()
    assert not DocumentPartenaire.objects.exists()
    assert stored_files(private_media) == []


def test_p2_admin_refuses_the_file_when_the_antivirus_cannot_be_reached(
    client, settings, administrateur, private_media
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CLAMD_HOST, settings.CLAMD_PORT = "127.0.0.1", sock.getsockname()[1]
    verified_login(client, administrateur)
    response = client.post(
        reverse("admin:portal_documentpartenaire_add"), admin_document_form(upload("guide.pdf", pdf()))
    )
    assert response.status_code == 200
    assert "L&#x27;analyse antivirus est momentanément indisponible" in response.content.decode()
    assert not DocumentPartenaire.objects.exists()
    assert stored_files(private_media) == []


@pytest.mark.clamd
def test_p2_agent_uploads_for_its_caisse_only_and_never_reaches_another_caisses_document(
    client, clamd_address, agent_a, caisse_a, caisse_b, administrateur, private_media
):
    verified_login(client, agent_a)
    url = reverse("admin:portal_documentpartenaire_add")
    for refused in ("", str(caisse_b.pk)):
        response = client.post(url, admin_document_form(upload("guide.pdf", pdf()), caisse=refused))
        assert response.status_code == 200
    assert not DocumentPartenaire.objects.exists()
    response = client.post(url, admin_document_form(upload("Guide CPAM.pdf", pdf()), caisse=str(caisse_a.pk)))
    assert response.status_code == 302, response.content.decode()[:3000]
    uploaded = DocumentPartenaire.objects.get()
    assert (uploaded.caisse, uploaded.created_by, uploaded.original_name) == (caisse_a, agent_a, "Guide CPAM.pdf")
    assert STORED_NAME.fullmatch(uploaded.file.name)
    assert stored_files(private_media) == [uploaded.file.name]

    other = document(administrateur, caisse_b, title="Note du Hainaut")
    assert client.get(reverse("admin:portal_documentpartenaire_change", args=[other.pk])).status_code == 404
    assert "Note du Hainaut" not in client.get(reverse("admin:portal_documentpartenaire_changelist")).content.decode()
    national = document(administrateur, title="Guide national")
    read_only = client.get(reverse("admin:portal_documentpartenaire_change", args=[national.pk]))
    assert read_only.status_code == 200
    assert 'name="_save"' not in read_only.content.decode()


@pytest.mark.s3
@pytest.mark.clamd
def test_p2_admin_upload_with_the_object_store_down_is_a_french_503_and_saves_nothing(
    client, settings, administrateur, object_storage, clamd_address
):
    from tests.conftest import free_port

    settings.STORAGES = {
        **settings.STORAGES,
        "default": object_storage.storage(endpoint_url=f"http://127.0.0.1:{free_port()}"),
    }
    verified_login(client, administrateur)
    response = client.post(
        reverse("admin:portal_documentpartenaire_add"), admin_document_form(upload("guide.pdf", pdf()))
    )
    assert response.status_code == 503
    assert "momentanément indisponible" in response.content.decode()
    assert not DocumentPartenaire.objects.exists()
