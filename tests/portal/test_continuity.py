"""P8 (convention art. 3.2): the interrupting maintenance window, the incident mode, and the fallback channels
shown in the banner, on the maintenance page, on the contacts page and on the database-down page."""

import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.permissions import sync_agent_group
from conventions.continuity import write_fallback_snapshot
from conventions.models import CanalSecours, Service
from core.models import Action, JournalEntry
from portal import content
from portal.continuity import current_interruption
from portal.models import MaintenanceNotice
from requests_app.models import Demande, DemandeKind
from tests.accounts.factories import UserFactory
from tests.conftest import free_port, subprocess_env, verified_login
from tests.conventions.factories import CaisseFactory, CanalSecoursFactory, partner_with_access
from tests.requests_app.guard_corpus import nir

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
STARTS = datetime(2027, 3, 13, 20, 0, tzinfo=PARIS)
ENDS = datetime(2027, 3, 14, 6, 0, tzinfo=PARIS)


@pytest.fixture
def caisse():
    return CaisseFactory(name="CPAM de Roubaix-Tourcoing")


@pytest.fixture
def other_caisse():
    return CaisseFactory(name="CPAM du Hainaut")


@pytest.fixture
def channels(caisse, other_caisse):
    mine = CanalSecoursFactory(caisse=caisse, service=Service.CONTACT, phone="03 20 11 22 33")
    CanalSecoursFactory(caisse=caisse, service=Service.HISTORIQUE, phone="", email="historique@cpam.example")
    theirs = CanalSecoursFactory(caisse=other_caisse, service=Service.CONTACT, phone="03 27 99 88 77")
    return mine, theirs


@pytest.fixture
def technicien(caisse):
    return UserFactory(partenaire=partner_with_access(caisse).convention_metier.partenaire)


@pytest.fixture
def agent(caisse):
    agent = UserFactory(agent=True, caisse=caisse)
    agent.groups.add(sync_agent_group())
    return agent


@pytest.fixture
def administrateur():
    return UserFactory(administrateur=True)


def interrupting_notice(actor, **fields):
    fields = {"starts_at": STARTS, "ends_at": ENDS, "interrupting": True, **fields}
    return content.save_notice(
        MaintenanceNotice(title="Migration des serveurs", message="Le portail est fermé.", **fields),
        actor=actor,
    )


def is_maintenance(response) -> bool:
    return response.status_code == 503 and "Maintenance en cours" in response.content.decode()


# --- The window at its boundaries -----------------------------------------------------------------------------


def test_p8_interrupting_window_closes_partner_pages_from_its_start_to_its_end(
    client, administrateur, technicien, caisse, channels
):
    interrupting_notice(administrateur)
    with time_machine.travel(STARTS - timedelta(seconds=1), tick=False):
        verified_login(client, technicien)  # signed in at the time of the test: the session is fresh
        before = client.get(reverse("home"))
        assert before.status_code == 200
        assert "Le portail sera fermé pendant la maintenance" in before.content.decode()
        assert "03 20 11 22 33" in before.content.decode()  # the banner gives the other channel beforehand
    with time_machine.travel(STARTS, tick=False):
        response = client.get(reverse("home"))
        assert is_maintenance(response)
        assert response["Retry-After"] == str(10 * 3600)
        body = response.content.decode()
        assert 'lang="fr"' in body and "Migration des serveurs" in body
        assert "03 20 11 22 33" in body and "historique@cpam.example" in body  # its caisse's channels
        assert "03 27 99 88 77" not in body  # not another caisse's
        assert is_maintenance(client.get(reverse("demandes")))
    with time_machine.travel(ENDS - timedelta(seconds=1), tick=False):
        verified_login(client, technicien)
        assert client.get(reverse("home"))["Retry-After"] == "1"
    with time_machine.travel(ENDS, tick=False):
        verified_login(client, technicien)
        assert client.get(reverse("home")).status_code == 200


@time_machine.travel(STARTS + timedelta(minutes=5), tick=False)
def test_p8_a_form_posted_in_the_window_gets_the_maintenance_page_and_saves_nothing(
    client, administrateur, technicien, caisse
):
    interrupting_notice(administrateur)
    verified_login(client, technicien)
    url = reverse("demande_new", args=[caisse.pk, DemandeKind.CONTACT])
    response = client.post(
        url,
        {
            "assure_civilite": "m",
            "assure_last_name": "Martin",
            "assure_first_name": "Paul",
            "assure_birth_date": "1980-01-01",
            "assure_departement": "59",
            "message": "Merci de rappeler la personne.",
            "form_token": "00000000-0000-4000-8000-000000000001",
        },
    )
    assert is_maintenance(response)
    assert not Demande.objects.exists()


@time_machine.travel(STARTS + timedelta(minutes=5), tick=False)
def test_p8_in_the_window_staff_keep_the_back_office_and_healthz_answers(client, administrateur, agent, technicien):
    interrupting_notice(administrateur)
    signed_out = client.get(reverse("admin:index"))  # an agent not signed in yet is sent to the sign-in
    assert signed_out.status_code == 302 and "/admin/login/" in signed_out["Location"]
    assert client.get(reverse("login")).status_code == 200
    verified_login(client, agent)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:requests_app_demande_changelist")).status_code == 200
    health = client.get(reverse("healthz"))
    assert health["Content-Type"] == "application/json" and "Maintenance" not in health.content.decode()
    assert client.get(reverse("login")).status_code in (200, 302)  # staff must still be able to sign in
    client.logout()
    verified_login(client, technicien)
    assert client.get(reverse("admin:index")).status_code == 503  # the back-office is for staff only
    static = client.get("/static/portal/portal.css")
    assert static.status_code == 200
    static.close()


def test_p8_a_window_that_does_not_interrupt_leaves_the_portal_open(client, administrateur, technicien):
    interrupting_notice(administrateur, interrupting=False)
    with time_machine.travel(STARTS + timedelta(minutes=5), tick=False):
        verified_login(client, technicien)
        assert client.get(reverse("home")).status_code == 200


def test_p8_only_a_national_notice_interrupts_the_portal(agent, administrateur, caisse):
    with pytest.raises(ValidationError) as refused:
        interrupting_notice(agent)  # the agent's notice is forced to its caisse
    assert "Seul un avis national" in str(refused.value)
    with pytest.raises(ValidationError):
        interrupting_notice(administrateur, caisse=caisse)


def test_p8_agent_admin_form_refuses_an_interrupting_notice_in_french(client, agent, caisse):
    verified_login(client, agent)
    response = client.post(
        reverse("admin:portal_maintenancenotice_add"),
        {
            "caisse": caisse.pk,
            "title": "Coupure",
            "message": "Fermé.",
            "starts_at_0": "13/03/2027",
            "starts_at_1": "20:00",
            "ends_at_0": "14/03/2027",
            "ends_at_1": "06:00",
            "interrupting": "on",
        },
    )
    assert response.status_code == 200
    assert "Seul un avis national" in response.content.decode()
    assert not MaintenanceNotice.objects.exists()


# --- The incident mode ------------------------------------------------------------------------------------------


def test_p8_the_national_administrator_switches_the_incident_mode_on_and_off_journaled(
    client, administrateur, technicien, agent, settings
):
    admin_client = verified_login(client.__class__(), administrateur)
    url = reverse("admin:incident_mode")
    response = admin_client.post(url, {"message": "Panne du serveur de messagerie."})
    assert response.status_code == 302, response.content.decode()[-3000:]
    verified_login(client, technicien)
    response = client.get(reverse("home"))
    assert is_maintenance(response)
    assert response["Retry-After"] == str(settings.INCIDENT_RETRY_AFTER_SECONDS)
    assert "Panne du serveur de messagerie." in response.content.decode()
    assert admin_client.get(reverse("admin:index")).status_code == 200
    assert admin_client.post(url).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    actions = list(JournalEntry.objects.filter(actor=administrateur).values_list("action", flat=True))
    assert actions.count(Action.INCIDENT_MODE_ON) == 1 and actions.count(Action.INCIDENT_MODE_OFF) == 1


def test_p8_an_agent_cannot_switch_the_incident_mode(client, agent, technicien):
    verified_login(client, agent)
    assert client.post(reverse("admin:incident_mode"), {"message": "Panne"}).status_code == 403
    client.logout()
    verified_login(client, technicien)
    assert client.get(reverse("home")).status_code == 200


def test_p8_the_incident_message_goes_through_the_free_text_guard(client, administrateur, technicien):
    verified_login(client, administrateur)
    response = client.post(reverse("admin:incident_mode"), {"message": f"Rappeler {nir('1850578006048')}"})
    assert response.status_code == 200 and "NIR" in response.content.decode()
    client.logout()
    verified_login(client, technicien)
    assert client.get(reverse("home")).status_code == 200


def test_p8_the_maintenance_check_costs_one_query(client, technicien, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert current_interruption() is None


# --- Fallback channels: contacts page, admin, snapshot, database down ---------------------------------------


def test_p8_contacts_page_shows_the_partners_caisses_channels_only(client, technicien, channels):
    verified_login(client, technicien)
    body = client.get(reverse("contacts")).content.decode()
    assert "Si le portail est en maintenance ou en panne" in body
    assert "03 20 11 22 33" in body and "historique@cpam.example" in body
    assert "03 27 99 88 77" not in body


def test_p8_a_channel_needs_a_way_to_reach_the_caisse_and_one_row_per_service(caisse):
    with pytest.raises(ValidationError, match="au moins un téléphone"):
        CanalSecours(caisse=caisse, service=Service.CONTACT).full_clean()
    CanalSecoursFactory(caisse=caisse, service=Service.CONTACT)
    with pytest.raises(ValidationError, match="déjà un canal de secours"):
        CanalSecours(caisse=caisse, service=Service.CONTACT, phone="36 46").full_clean()


def test_p8_an_agent_edits_its_caisses_channels_inline_and_the_snapshot_follows(
    client, agent, caisse, other_caisse, settings, django_capture_on_commit_callbacks
):
    verified_login(client, agent)
    url = reverse("admin:conventions_caisse_change", args=[caisse.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "id"}
    data.update(
        {
            "referents-TOTAL_FORMS": "0",
            "referents-INITIAL_FORMS": "0",
            "canaux_secours-TOTAL_FORMS": "1",
            "canaux_secours-INITIAL_FORMS": "0",
            "canaux_secours-0-service": Service.RENDEZ_VOUS,
            "canaux_secours-0-phone": "03 20 44 55 66",
            "canaux_secours-0-opening_hours": "du lundi au vendredi",
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    snapshot = json.loads(Path(settings.FALLBACK_CHANNELS_FILE).read_text(encoding="utf-8"))
    [group] = snapshot["caisses"]
    assert group["caisse"] == caisse.name
    assert group["channels"][0]["service"] == Service.RENDEZ_VOUS.label
    assert group["channels"][0]["phone"] == "03 20 44 55 66"
    # another caisse's change page is out of the agent's reach (CaisseScopedAdmin)
    assert client.get(reverse("admin:conventions_caisse_change", args=[other_caisse.pk])).status_code == 404


def test_p8_the_snapshot_is_written_only_once_the_change_is_committed(caisse, settings):
    snapshot = Path(settings.FALLBACK_CHANNELS_FILE)
    with transaction.atomic():
        CanalSecoursFactory(caisse=caisse)
        assert not snapshot.exists()
    # the test's transaction is never committed: pytest-django's rollback keeps it unwritten
    assert not snapshot.exists()


def run_down(env):
    return subprocess.run([sys.executable, "-c", DOWN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


DOWN = """
import json, django
django.setup()
from django.test import Client
response = Client(raise_request_exception=False).get("/connexion/", HTTP_HOST="127.0.0.1")
print(json.dumps([response.status_code, response.get("Retry-After"), response.content.decode()]))
"""


def test_p8_database_down_page_shows_the_fallback_channels_from_the_snapshot(channels, tmp_path):
    snapshot = tmp_path / "copie.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.FALLBACK_CHANNELS_FILE", str(snapshot))
        assert write_fallback_snapshot() == 2  # written with the database up, at the last change
    env = subprocess_env(  # then a PostgreSQL address where nothing answers
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/espace_partenaires",
        DATABASE_CONN_MAX_AGE="0",
        FALLBACK_CHANNELS_FILE=str(snapshot),
        FALLBACK_CHANNELS_REDIS_URL="",
    )
    result = run_down(env)
    assert result.returncode == 0, result.stderr[-2000:]
    status, retry_after, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503 and retry_after
    assert "Service momentanément indisponible" in body
    assert "CPAM de Roubaix-Tourcoing" in body and "03 20 11 22 33" in body and "historique@cpam.example" in body
    assert "CPAM du Hainaut" in body and "03 27 99 88 77" in body
    # Without a snapshot the page still answers, with the general advice.
    env["FALLBACK_CHANNELS_FILE"] = str(tmp_path / "absente.json")
    result = run_down(env)
    status, _, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503 and "canaux habituels" in body


def test_p8_database_down_page_reads_the_copy_every_node_shares_in_redis(channels, tmp_path, settings):
    """Several web nodes share no disk: the copy written by the node (or worker) where a caisse edited its
    channels is read from Redis by a node that never wrote a file of its own."""
    key = f"tests:canaux-secours:{uuid.uuid4().hex}"
    settings.FALLBACK_CHANNELS_REDIS_URL, settings.FALLBACK_CHANNELS_REDIS_KEY = "redis://127.0.0.1:6379/0", key
    settings.FALLBACK_CHANNELS_FILE = str(tmp_path / "autre-noeud.json")
    try:
        assert write_fallback_snapshot() == 2
        env = subprocess_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/espace_partenaires",
            DATABASE_CONN_MAX_AGE="0",
            FALLBACK_CHANNELS_FILE=str(tmp_path / "jamais-ecrite.json"),
            FALLBACK_CHANNELS_REDIS_URL="redis://127.0.0.1:6379/0",
            FALLBACK_CHANNELS_REDIS_KEY=key,
        )
        result = run_down(env)
        assert result.returncode == 0, result.stderr[-2000:]
        status, _, body = json.loads(result.stdout.strip().splitlines()[-1])
        assert status == 503 and "CPAM de Roubaix-Tourcoing" in body and "03 20 11 22 33" in body
        # Redis down as well: the node's own file, and the page still answers.
        env["FALLBACK_CHANNELS_REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        result = run_down(env)
        status, _, body = json.loads(result.stdout.strip().splitlines()[-1])
        assert status == 503 and "canaux habituels" in body
    finally:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(key)
