"""P6: retention of what is not an account — at the limit it happens, a second before nothing, a second run
changes nothing, a dry run writes nothing; the journal deletes only through the retention job."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.permissions import sync_agent_group
from core import audit, retention
from core.models import Action, JournalEntry, OutboxEmail
from requests_app import retention as demande_retention
from requests_app.models import Demande, DemandeState, Message
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _private_media(private_media):
    return private_media


def paris(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def journal_counts():
    return list(
        JournalEntry.objects.filter(action=Action.RETENTION_APPLIED).order_by("pk").values_list("details", flat=True)
    )


# --- Emails ------------------------------------------------------------------------------------------------


def test_p6_sent_email_deleted_30_days_after_it_was_sent(settings):
    settings.RETENTION_SENT_EMAILS_DAYS = 30
    sent_at = paris(2026, 3, 1, 11, 35)  # 30 calendar days across the change to summer time
    email = OutboxEmail.objects.create(subject="Bonjour Camille", body="…", recipients="a@x.fr", sent_at=sent_at)
    pending = OutboxEmail.objects.create(subject="en attente", body="…", recipients="a@x.fr", attempts=3)
    limit = paris(2026, 3, 31, 11, 35)
    assert retention.delete_old_emails(now=limit - SECOND) == 0
    assert retention.delete_old_emails(now=limit, dry_run=True) == 1
    assert OutboxEmail.objects.filter(pk=email.pk).exists()
    assert retention.delete_old_emails(now=limit) == 1
    assert not OutboxEmail.objects.filter(pk=email.pk).exists()
    assert retention.delete_old_emails(now=limit) == 0
    assert OutboxEmail.objects.filter(pk=pending.pk).exists()  # never sent, not given up: kept
    assert journal_counts() == [{"donnees": "emails envoyés ou abandonnés", "lignes": 1}]


def test_p6_given_up_email_deleted_after_the_same_delay(settings):
    settings.RETENTION_SENT_EMAILS_DAYS = 30
    given_up = paris(2026, 5, 10, 8, 0)
    email = OutboxEmail.objects.create(subject="s", body="b", recipients="a@x.fr", attempts=20, given_up_at=given_up)
    assert retention.delete_old_emails(now=given_up + timedelta(days=30) - SECOND) == 0
    assert retention.delete_old_emails(now=given_up + timedelta(days=30)) == 1
    assert not OutboxEmail.objects.filter(pk=email.pk).exists()


def test_p6_last_failed_attempt_gives_the_email_up(settings, mailoutbox):
    from core.delivery import MAX_ATTEMPTS, send_one

    settings.EMAIL_BACKEND = "tests.requests_app.test_retention.FailingBackend"
    email = OutboxEmail.objects.create(subject="s", body="b", recipients="a@x.fr", attempts=MAX_ATTEMPTS - 1)
    assert send_one(email.pk) is False
    email.refresh_from_db()
    assert email.given_up_at is not None and email.sent_at is None
    assert send_one(email.pk) is False  # never tried again
    email.refresh_from_db()
    assert email.attempts == MAX_ATTEMPTS


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError


# --- Attachments -------------------------------------------------------------------------------------------


def closed_with_piece(closed_at, state=DemandeState.TRAITEE, **fields):
    return DemandeFactory(
        with_piece=True, state=state, created_at=closed_at - timedelta(days=3), state_changed_at=closed_at, **fields
    )


@pytest.mark.parametrize("state", [DemandeState.TRAITEE, DemandeState.CLOTUREE])
def test_p6_attachment_deleted_3_months_after_closure(settings, state):
    settings.RETENTION_ATTACHMENTS_MONTHS_AFTER_CLOSURE = 3
    closed_at = paris(2026, 11, 30, 11, 35)
    demande = closed_with_piece(closed_at, state)
    open_one = DemandeFactory(with_piece=True, created_at=closed_at - timedelta(days=400))
    piece = demande.pieces.get()
    name = piece.file.name
    limit = paris(2027, 2, 28, 11, 35)  # 30/11 + 3 months, clamped to the end of February
    assert demande_retention.delete_attachments_of_closed(now=limit - SECOND) == 0
    assert demande_retention.delete_attachments_of_closed(now=limit, dry_run=True) == 1
    assert default_storage.exists(name)
    assert demande_retention.delete_attachments_of_closed(now=limit) == 1
    piece.refresh_from_db()
    assert not default_storage.exists(name)
    assert piece.deleted_at == limit and piece.file.name == "" and piece.original_name == ""
    assert demande_retention.delete_attachments_of_closed(now=limit + timedelta(days=1)) == 0
    assert open_one.pieces.get().deleted_at is None  # an open request keeps its files


def test_p6_deleted_attachment_shown_with_its_date_partner_and_admin(settings, login_verified, client):
    from tests.accounts.factories import UserFactory

    closed_at = paris(2026, 1, 5, 10, 0)
    demande = closed_with_piece(closed_at)
    demande_retention.delete_attachments_of_closed(now=paris(2026, 4, 5, 10, 0))
    piece = demande.pieces.get()
    login_verified(demande.filed_by)
    page = client.get(f"/demandes/{demande.reference}/").content.decode()
    assert "Pièce jointe supprimée le 05/04/2026 (durée de conservation)" in page
    assert f"/pieces/{piece.pk}" not in page
    assert client.get(f"/demandes/{demande.reference}/pieces/{piece.pk}/").status_code == 404
    agent = UserFactory(agent=True, caisse=demande.caisse)
    agent.groups.add(sync_agent_group())
    login_verified(agent)
    admin_page = client.get(f"/admin/requests_app/demande/{demande.pk}/change/").content.decode()
    assert "Pièce jointe supprimée le 05/04/2026 (durée de conservation)" in admin_page


# --- Requests' identity and texts --------------------------------------------------------------------------


def test_p6_identity_and_texts_erased_2_years_after_closure_request_kept_as_statistic(settings):
    settings.RETENTION_REQUEST_IDENTITY_YEARS_AFTER_CLOSURE = 2
    closed_at = paris(2024, 2, 29, 23, 59)
    demande = closed_with_piece(closed_at, DemandeState.CLOTUREE)
    kept = (demande.kind, demande.caisse_id, demande.partenaire_id, demande.created_at, demande.state)
    limit = paris(2026, 2, 28, 23, 59)  # 29/02 + 2 years
    assert demande_retention.erase_closed_requests(now=limit - SECOND) == 0
    assert demande_retention.erase_closed_requests(now=limit, dry_run=True) == 1
    assert Demande.objects.get(pk=demande.pk).erased_at is None
    assert demande_retention.erase_closed_requests(now=limit) == 1
    demande = Demande.objects.get(pk=demande.pk)
    assert (demande.assure_last_name, demande.assure_first_name, demande.assure_birth_date) == ("", "", None)
    assert demande.assure_departement == "" and demande.assure_civilite == ""
    assert demande.search_text == demande.reference.lower()
    assert demande.erased_at == limit
    assert set(Message.objects.filter(demande=demande).values_list("body", flat=True)) == {""}
    assert demande.pieces.get().deleted_at == limit
    assert (demande.kind, demande.caisse_id, demande.partenaire_id, demande.created_at, demande.state) == kept
    assert demande.changes.states().count() == 2
    assert demande_retention.erase_closed_requests(now=limit) == 0


def test_p6_erased_request_page_says_so_partner_and_admin(login_verified, client):
    from tests.accounts.factories import UserFactory

    demande = closed_with_piece(paris(2023, 6, 1, 9, 0), assure_last_name="Zorglubian", thread="Texte Quixotique")
    demande_retention.erase_closed_requests(now=paris(2025, 6, 1, 9, 0))
    login_verified(demande.filed_by)
    page = client.get(f"/demandes/{demande.reference}/").content.decode()
    assert "effacés le 01/06/2025 (durée de conservation)" in page
    assert "Message effacé le 01/06/2025 (durée de conservation)" in page
    assert "Zorglubian" not in page and "Quixotique" not in page
    agent = UserFactory(agent=True, caisse=demande.caisse)
    agent.groups.add(sync_agent_group())
    login_verified(agent)
    admin_page = client.get(f"/admin/requests_app/demande/{demande.pk}/change/").content.decode()
    assert "textes de la demande effacés le 01/06/2025 (durée de conservation)" in admin_page
    assert "Zorglubian" not in admin_page and "Quixotique" not in admin_page


def test_p6_queries_per_batch_do_not_grow_with_the_batch(settings):
    settings.JOBS_BATCH_SIZE = 100
    closed_at = paris(2020, 1, 1, 12, 0)

    def queries(count):
        for _ in range(count):
            closed_with_piece(closed_at)
        with CaptureQueriesContext(connection) as captured:
            assert demande_retention.erase_closed_requests(now=paris(2023, 1, 1)) == count
        return len(captured)

    assert queries(1) == queries(4)


# --- Journal -------------------------------------------------------------------------------------------------


def test_p6_journal_rows_deleted_after_12_months(settings):
    settings.RETENTION_JOURNAL_MONTHS = 12
    written = paris(2024, 8, 31, 10, 0)
    with time_machine.travel(written, tick=False):
        old = audit.record(Action.LOGIN)
    with time_machine.travel(written + timedelta(days=1), tick=False):
        younger = audit.record(Action.LOGIN)
    limit = paris(2025, 8, 31, 10, 0)
    assert retention.delete_old_journal_rows(now=limit - SECOND) == 0
    assert retention.delete_old_journal_rows(now=limit, dry_run=True) == 1
    assert retention.delete_old_journal_rows(now=limit) == 1
    assert not JournalEntry.objects.filter(pk=old.pk).exists()
    assert JournalEntry.objects.filter(pk=younger.pk).exists()
    assert retention.delete_old_journal_rows(now=limit) == 0


def test_p6_an_arbitrary_delete_of_the_journal_is_still_refused():
    with time_machine.travel(paris(2020, 1, 1), tick=False):
        old = audit.record(Action.LOGIN)
    recent = audit.record(Action.LOGIN)
    attempts = [
        ("", "DELETE FROM portal_journalentry WHERE id = %s", old.pk),  # no setting: refused even if old
        ("2100-01-01T00:00:00+00:00", "DELETE FROM portal_journalentry WHERE id = %s", recent.pk),  # too recent
        ("2100-01-01T00:00:00+00:00", "UPDATE portal_journalentry SET action = 'logout' WHERE id = %s", old.pk),
    ]
    for until, sql, pk in attempts:
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('portal.journal_retention_until', %s, true)", [until])
            cursor.execute(sql, [pk])
    assert JournalEntry.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2


def test_p6_erased_request_in_the_history_list(login_verified, client):
    demande = closed_with_piece(paris(2023, 6, 1, 9, 0), assure_last_name="Zorglubian")
    name = demande.assure_last_name
    demande_retention.erase_closed_requests(now=paris(2025, 6, 1, 9, 0))
    login_verified(demande.filed_by)
    page = client.get("/demandes/").content.decode()
    assert demande.reference in page and "effacée (durée de conservation)" in page and name not in page


@pytest.mark.parametrize(
    "keep", [retention.period(days=30), retention.period(months=3), retention.period(years=2)], ids=str
)
def test_p6_the_database_counts_periods_as_the_paris_calendar_does(keep):
    """The jobs' SQL condition (`over`) agrees with the rule in Python (`is_over`, relativedelta on the Paris
    calendar) for every evening, noon and midnight of 2025 and moments on both sides of each limit: month ends,
    29 February, summer time."""
    start = timezone.localtime(paris(2025, 1, 1)) - keep - timedelta(days=8)
    moments = []
    for day in range((timezone.localtime(paris(2026, 1, 1)) - keep - start).days + 8):
        base = (start + timedelta(days=day)).date()
        for hour, minute, second in [(0, 0, 0), (11, 34, 59), (11, 35, 0), (11, 35, 1), (23, 59, 59)]:
            moments.append(paris(base.year, base.month, base.day, hour, minute, second))
    emails = OutboxEmail.objects.bulk_create(
        OutboxEmail(subject="s", body="b", recipients="a@x.fr", sent_at=moment) for moment in moments
    )
    sent = {email.pk: email.sent_at for email in emails}
    for day in range(365):
        for hour, minute in [(0, 0), (11, 35), (23, 59)]:
            moment = paris(2025, 1, 1) + timedelta(days=day)
            now = paris(moment.year, moment.month, moment.day, hour, minute)
            window = (
                timezone.localtime(now) - keep - timedelta(days=5),
                timezone.localtime(now) - keep + timedelta(days=5),
            )
            due = set(
                OutboxEmail.objects.filter(retention.over("sent_at", keep, now), sent_at__range=window).values_list(
                    "pk", flat=True
                )
            )
            expected = {
                pk for pk, at in sent.items() if window[0] <= at <= window[1] and retention.is_over(at, keep, now)
            }
            assert due == expected, now


# --- Every job: batch by batch, the same queries whatever the batch's size -----------------------------------

LONG_AGO = paris(2020, 1, 15, 12, 0)
LATER = paris(2024, 1, 15, 12, 0)  # past every default period, and the journal's floor of six months


def due_email():
    OutboxEmail.objects.create(subject="s", body="b", recipients="a@x.fr", sent_at=LONG_AGO)


def due_piece():
    closed_with_piece(LONG_AGO)


def due_demande():
    DemandeFactory(cloturee=True, created_at=LONG_AGO, state_changed_at=LONG_AGO)


def due_journal_row():
    with time_machine.travel(LONG_AGO, tick=False):
        audit.record(Action.LOGIN)


JOBS = {
    "conservation_emails": (due_email, retention.delete_old_emails),
    "conservation_pieces": (due_piece, demande_retention.delete_attachments_of_closed),
    "conservation_demandes": (due_demande, demande_retention.erase_closed_requests),
    "conservation_journal": (due_journal_row, retention.delete_old_journal_rows),
}


@pytest.mark.parametrize("name", JOBS)
def test_p6_each_job_works_batch_by_batch_and_journals_counts_only(settings, name):
    make, job = JOBS[name]
    settings.JOBS_BATCH_SIZE = 2
    for _ in range(5):
        make()
    with CaptureQueriesContext(connection) as captured:
        assert job(now=LATER) == 5
    locks = [q["sql"] for q in captured.captured_queries if q["sql"].endswith("SKIP LOCKED")]
    assert len(locks) == 4  # 2 + 2 + 1, and the empty one that ends the run
    counts = [details["lignes"] for details in journal_counts()]
    assert counts == [2, 2, 1]
    assert job(now=LATER) == 0


@pytest.mark.parametrize("name", JOBS)
def test_p6_each_job_costs_the_same_queries_for_one_row_or_many(settings, name):
    make, job = JOBS[name]
    settings.JOBS_BATCH_SIZE = 100

    def queries(count):
        for _ in range(count):
            make()
        with CaptureQueriesContext(connection) as captured:
            assert job(now=LATER) == count
        return len(captured)

    assert queries(1) == queries(4)
