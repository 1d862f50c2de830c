"""A15: the purge provably erases a person. One account, with unique markers in every identity field, goes
through every workflow it can touch; it is inactivated, the real job purges it at the first nightly run 6
calendar months later (not the run before), then the WHOLE test database is dumped (`pg_dump --data-only`:
every table, those added later too) and none of the markers is found, in any case, folded or not."""

import glob
import os
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts import habilitations, invitations, two_factor
from accounts.models import (
    CGU,
    AccountState,
    Civilite,
    HabilitationRequest,
    HabilitationReview,
    IncidentKind,
    RequestStatus,
    User,
)
from core.models import Action, JournalEntry, OutboxEmail
from core.text import fold
from portal.jobs import JOBS
from requests_app import services as demandes
from requests_app.models import Demande, Message, PieceJointe
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, DomaineEmailFactory, partner_with_access
from tests.requests_app.factories import DemandeFactory

PARIS = ZoneInfo("Europe/Paris")
DOMAIN = "cias-quokkaville.example"
FIRST = "Xanthéa"
LAST = "Brouzdalowski"
NEW_LAST = "Vrombissantel"
JOB = "Cartographe des quokkas"
NEW_JOB = "Archiviste zygomorphe"
PHONE = "06 98 71 23 45"
NEW_PHONE = "07 31 64 28 59"
EMAIL = f"xanthea.brouzda7731@{DOMAIN}"
NEW_EMAIL = f"x.vrombi9917@{DOMAIN}"
IP = "198.51.100.73"
PASSWORD = "Un-mot-de-passe-solide-1"
WRONG = "Pas-le-bon-mot-de-passe-9"


def at(day: date, hour: int, minute: int = 0):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS), tick=False)


def pg_dump_binary() -> str:
    found = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1:]
    if not found:
        pytest.fail("pg_dump introuvable : installez postgresql-client (scripts/services.sh le fait)")
    return found if isinstance(found, str) else found[0]


def dump_whole_database() -> str:
    """Every row of every table of the test database, as pg_dump writes them."""
    db = connection.settings_dict
    command = [pg_dump_binary(), "--data-only", "--no-owner", "--dbname", db["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [option, str(db[key])]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env, timeout=120).stdout


def run_purge_job() -> int:
    return next(job for job in JOBS if job.name == "suppression_comptes").run()


def markers(username: str) -> set[str]:
    values = {FIRST, LAST, NEW_LAST, JOB, NEW_JOB, PHONE, NEW_PHONE, PHONE.replace(" ", ""), IP, username}
    for email in (EMAIL, NEW_EMAIL):
        values |= {email, email.split("@")[0]}
    return {form for value in values for form in (value.lower(), fold(value))}


@pytest.mark.django_db(transaction=True)
def test_a15_after_the_purge_no_marker_of_the_person_is_left_anywhere_in_the_database(settings):
    settings.SIMPLE_HISTORY_ENABLED = True
    caisse = CaisseFactory()
    convention = partner_with_access(caisse)
    partner = convention.convention_metier.partenaire
    DomaineEmailFactory(partenaire=partner, domain=DOMAIN)
    agent = UserFactory(agent=True, caisse=caisse, email=f"agent@{DOMAIN}")
    colleague = UserFactory(gestionnaire=True, partenaire=partner, email=f"collegue@{DOMAIN}")
    day = date(2026, 1, 5)
    with at(day, 9):
        CGU.objects.create(version="2026-01", body="Conditions.", published_at=timezone.now() - timedelta(days=1))
        identity = {"civilite": Civilite.MADAME, "first_name": FIRST, "job_title": JOB, "phone": PHONE}
        # An earlier request for the same person, refused (A5), then the one that creates the account.
        earlier = habilitations.record_habilitation_request(
            HabilitationRequest(partenaire=partner, last_name=LAST, email=EMAIL, **identity), actor=colleague
        )
        habilitations.refuse_request(earlier, reason="Pièce manquante pour cette habilitation.", actor=agent)
        request = habilitations.record_habilitation_request(
            HabilitationRequest(partenaire=partner, last_name=LAST, email=EMAIL, **identity), actor=colleague
        )
        person = habilitations.accept_habilitation_request(request, actor=agent)
        username = person.username
        secret = invitations.send_invitation(person, actor=colleague)  # the invitation sent again
        person = invitations.activate(secret, PASSWORD)

    with at(day, 10):  # signed in, CGU accepted from its address, second factor enrolled
        client = verified_login(Client(REMOTE_ADDR=IP), person)
        assert client.post(reverse("cgu"), REMOTE_ADDR=IP).status_code in (200, 302)
        device = StaticDevice.objects.create(user=person, name="Codes de secours", confirmed=True)
        StaticToken.objects.create(device=device, token="84736251")

    with at(day, 11):  # failed logins (django-axes and the journal), by login and by email
        stranger = Client(REMOTE_ADDR=IP)
        for identifier in (username, EMAIL, username.upper()):
            stranger.post(reverse("login"), {"username": identifier, "password": WRONG}, REMOTE_ADDR=IP)
        invitations.request_password_reset(username)
        invitations.request_password_reset(EMAIL)
        two_factor.reset_two_factor(person, actor=agent)

    with at(day + timedelta(days=1), 9):  # A10: its structure changes its name, job, phone and email
        change = habilitations.request_gestionnaire_modification(
            person,
            {"last_name": NEW_LAST, "job_title": NEW_JOB, "phone": NEW_PHONE, "email": NEW_EMAIL},
            requested_by=colleague,
        )
        habilitations.apply_gestionnaire_request(change, actor=agent)
        person.refresh_from_db()
        again = habilitations.request_gestionnaire_modification(person, {"phone": PHONE}, requested_by=colleague)
        habilitations.refuse_request(again, reason=f"Demande en double pour {FIRST} {NEW_LAST}.", actor=agent)
        review = habilitations.request_review(
            HabilitationReview(partenaire=partner, due_on=date(2026, 2, 1)), actor=agent
        )
        habilitations.attest_review(review, gestionnaire=person)
        habilitations.report_incident(
            colleague,
            kind=IncidentKind.LOSS,
            description=f"Badge perdu, signalé par {FIRST} {NEW_LAST} ({NEW_PHONE}).",
            reported_by=person,
        )
        LogEntry.objects.log_actions(agent.pk, [person], CHANGE, change_message="[]", single_object=True)

    with at(day + timedelta(days=2), 9):  # its structure's requests: filed, answered, a file it uploaded
        demande = DemandeFactory(partenaire=partner, caisse=caisse, filed_by=person, rendez_vous=True)
        Demande.objects.filter(pk=demande.pk).update(reason=f"Accompagné par {FIRST} {NEW_LAST}")
        Message.objects.create(
            demande=demande, author=person, side="partenaire", body=f"Cordialement, {FIRST} {NEW_LAST}, {NEW_EMAIL}"
        )
        demandes.add_message(demande, author=agent, body=f"Bonjour Madame {NEW_LAST}, voici la réponse.")
        PieceJointe.objects.create(
            demande=demande,
            uploaded_by=person,
            file="pieces/3f9a.pdf",
            original_name=f"courrier-{LAST}.pdf",
            mime="application/pdf",
            size=10,
            sha256="0" * 64,
        )

    inactivated = date(2026, 1, 10)
    with at(inactivated, 11, 35):  # A13: the caisse finds a misuse, inactivates and tells the structure
        habilitations.caisse_detects_incident(
            person,
            kind=IncidentKind.MISUSE,
            description=f"Utilisation par {FIRST} {NEW_LAST} hors convention.",
            actor=agent,
        )
    person.refresh_from_db()
    assert person.state == AccountState.INACTIVE
    before = dump_whole_database()
    lowered, folded = before.lower(), fold(before)
    unwritten = sorted(m for m in markers(username) if m not in lowered and m not in folded)
    assert unwritten == [PHONE.replace(" ", "")], "the workflows must have written every marker"
    assert IP in before

    with at(date(2026, 7, 9), 2):  # the nightly run before the 6 calendar months: nothing
        assert run_purge_job() == 0
    with at(date(2026, 7, 10), 2):
        assert run_purge_job() == 0  # 02:00 is before 11:35: still not 6 months
    with at(date(2026, 7, 11), 2):
        assert run_purge_job() == 1

    dump = dump_whole_database()
    lowered, folded = dump.lower(), fold(dump)
    left = sorted(marker for marker in markers(username) if marker in lowered or marker in folded)
    hits = [line for line in dump.splitlines() if any(m in line.lower() or m in fold(line) for m in left)]
    # The one known limit: a failed login whose identifier names no account (here: the email, and the login
    # in capitals) is journaled with its address and nothing else; nothing ties it to the person. It goes with
    # the journal's retention (P6).
    unlinked = [line for line in hits if "\tlogin_failed\t\t\t\t" in line and '{"inconnu": true}' in line]
    assert left in ([], [IP]) and hits == unlinked, f"Données personnelles restées après la purge : {left} : {hits}"
    assert len(unlinked) == 2

    # What stays as a statistic, attributed to the anonymized account.
    person.refresh_from_db()
    assert (person.state, person.username) == (AccountState.SUPPRIME, f"compte-supprime-{person.pk}")
    assert Demande.objects.get(pk=demande.pk).filed_by_id == person.pk
    assert Message.objects.filter(demande=demande).count() == 3
    assert HabilitationRequest.objects.filter(account=person, status=RequestStatus.DONE).exists()
    purged = JournalEntry.objects.get(action=Action.ACCOUNT_PURGED)
    assert purged.target_label == f"Compte n° {person.pk}"
    assert not OutboxEmail.objects.filter(recipients__icontains=DOMAIN.split(".")[0], body__icontains="xanth").exists()
    assert User.history.filter(id=person.pk).count() == 0
    assert not re.search(r"brouzda|vrombi", dump, re.IGNORECASE)
