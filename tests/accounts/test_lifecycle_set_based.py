"""C4, A11, A14, A15: the nightly jobs are set-based. A batch costs the same number of queries whatever its
size, every changed row has its journal entry and its history row, a second run writes nothing, and a
batch is one transaction (two runs at once never change the same row)."""

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import habilitations, invitations, lifecycle, services
from accounts.models import (
    AccountState,
    AccountToken,
    GestionnaireRequest,
    GestionnaireRequestKind,
    InactivationReason,
    PasswordHistory,
    RequestStatus,
    TokenPurpose,
    User,
)
from conventions.models import ConventionMetier, ConventionStatus, ConventionUtilisation
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import ConventionUtilisationFactory, PartenaireFactory, partner_with_access

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")  # WITH: a batch's UPDATE … RETURNING and what follows from it


def at(day: date, hour=3):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=PARIS), tick=False)


def run(job, **kwargs):
    """The job's result and the SQL statements it sent."""
    with CaptureQueriesContext(connection) as queries:
        result = job(**kwargs)
    return result, [query["sql"] for query in queries.captured_queries]


def writes(statements):
    return [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]


@pytest.fixture
def big_batches(settings):
    settings.JOBS_BATCH_SIZE = 100


# --- C4: conventions at their end date --------------------------------------------------------------------


def conventions_at_term(count):
    return [ConventionUtilisationFactory(convention_metier__end_date=date(2026, 6, 30)) for _ in range(count)]


@pytest.mark.usefixtures("big_batches")
def test_c4_ending_conventions_costs_the_same_queries_for_3_or_30():
    counts = []
    for size in (3, 30):
        conventions_at_term(size)
        with at(date(2026, 7, 1)):
            ended, statements = run(lifecycle.end_expired_conventions)
        assert ended == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_c4_each_ended_convention_has_its_history_and_journal_and_a_second_run_writes_nothing():
    utilisations = conventions_at_term(3)
    still = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 7, 1))
    with at(date(2026, 7, 1)):
        assert lifecycle.end_expired_conventions() == 3
        again, statements = run(lifecycle.end_expired_conventions)
    assert again == 0 and writes(statements) == []
    for utilisation in utilisations:
        utilisation.refresh_from_db()
        metier = utilisation.convention_metier
        assert (metier.status, metier.ended_on) == (ConventionStatus.TERMINEE, date(2026, 6, 30))
        assert (utilisation.status, utilisation.ended_on) == (ConventionStatus.TERMINEE, date(2026, 6, 30))
        for row in (metier, utilisation):
            (history,) = row.history.filter(history_type="~")
            assert (history.status, history.ended_on, history.history_user) == (row.status, row.ended_on, None)
            entry = JournalEntry.objects.get(
                action=Action.CONVENTION_ENDED, target_type=row._meta.label_lower, target_id=str(row.pk)
            )
            assert entry.target_label == str(row)
    assert ConventionMetier.objects.get(pk=still.convention_metier_id).status == ConventionStatus.EN_VIGUEUR
    assert JournalEntry.objects.filter(action=Action.CONVENTION_ENDED).count() == 6


def test_c4_a_metier_without_convention_d_utilisation_ends_alone():
    metier = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 6, 30)).convention_metier
    ConventionUtilisation.objects.filter(convention_metier=metier).delete()
    with at(date(2026, 7, 1)):
        assert lifecycle.end_expired_conventions() == 1
    metier.refresh_from_db()
    assert metier.status == ConventionStatus.TERMINEE
    assert JournalEntry.objects.filter(action=Action.CONVENTION_ENDED).count() == 1


# --- A14: accounts of a partner left without convention ---------------------------------------------------


def accounts_without_convention(count):
    partenaire = conventions_at_term(1)[0].convention_metier.partenaire
    ConventionMetier.objects.filter(partenaire=partenaire).update(
        status=ConventionStatus.TERMINEE, ended_on=date(2026, 6, 30)
    )
    accounts = UserFactory.create_batch(count, partenaire=partenaire)
    for account in accounts:
        invitations._issue(account, TokenPurpose.RESET)
    return accounts


@pytest.mark.usefixtures("big_batches")
def test_a14_inactivations_cost_the_same_queries_for_3_or_30():
    counts = []
    for size in (3, 30):
        accounts_without_convention(size)
        with at(date(2026, 7, 1)):
            inactivated, statements = run(lifecycle.inactivate_accounts_without_convention)
        assert inactivated == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a14_each_inactivated_account_has_its_history_journal_and_links_revoked_and_a_second_run_writes_nothing():
    accounts = accounts_without_convention(3)
    kept = partner_with_access()  # a partner with its convention in force keeps its accounts
    other = UserFactory(partenaire=kept.convention_metier.partenaire)
    with at(date(2026, 7, 1)):
        assert lifecycle.inactivate_accounts_without_convention() == 3
        again, statements = run(lifecycle.inactivate_accounts_without_convention)
    assert again == 0 and writes(statements) == []
    for account in accounts:
        account.refresh_from_db()
        assert (account.state, account.inactivation_reason) == (AccountState.INACTIVE, "convention_ended")
        history = account.history.get(history_type="~")
        tracked = [field.attname for field in User.history.model.tracked_fields]
        assert {name: getattr(history, name) for name in tracked} == {name: getattr(account, name) for name in tracked}
        assert (history.history_change_reason, history.history_user) == ("Fin de la convention", None)
        entry = JournalEntry.objects.get(action=Action.ACCOUNT_INACTIVATED, target_id=str(account.pk))
        assert (entry.target_label, entry.details, entry.actor) == (
            account.audit_label,
            {"motif": "convention_ended"},
            None,
        )
        assert not AccountToken.objects.valid().filter(user=account).exists()
    other.refresh_from_db()
    assert other.state == AccountState.ACTIF


def test_a14_the_job_inactivates_batch_by_batch(settings):
    settings.JOBS_BATCH_SIZE = 2
    accounts_without_convention(5)
    with at(date(2026, 7, 1)):
        inactivated, statements = run(lifecycle.inactivate_accounts_without_convention)
    assert inactivated == 5
    locks = [sql for sql in statements if sql.startswith("SELECT") and sql.endswith("SKIP LOCKED")]
    assert len(locks) == 3  # 2 + 2 + 1, each batch locked and committed by itself
    # Each batch: one statement for the accounts, their history and journal, one for their links.
    assert [sql.split()[0] for sql in writes(statements)] == ["WITH", "UPDATE"] * 3


@pytest.mark.usefixtures("big_batches")
def test_c4_a_batch_of_conventions_ends_in_one_statement():
    conventions_at_term(30)
    with at(date(2026, 7, 1)):
        ended, statements = run(lifecycle.end_expired_conventions)
    assert ended == 30
    (statement,) = writes(statements)
    assert statement.startswith("WITH") and "FOR UPDATE OF" in statement and "SKIP LOCKED" in statement


# --- A11, A12: the same service for one account, from the pages -------------------------------------------


def test_a12_one_inactivation_from_the_pages_goes_through_the_same_service(client):
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partner_with_access().convention_metier.partenaire)
    technicien = UserFactory(partenaire=gestionnaire.partenaire)
    invitations._issue(technicien, TokenPurpose.RESET)
    verified_login(client, gestionnaire)
    url = reverse("technicien_inactivate", args=[technicien.pk])
    assert client.post(url, {"reason": "left_structure"}, REMOTE_ADDR="192.0.2.8").status_code == 302
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INACTIVE and technicien.inactivation_reason == "left_structure"
    history = technicien.history.get(history_type="~")
    assert (history.state, history.history_user, history.history_change_reason) == (
        AccountState.INACTIVE,
        gestionnaire,
        "A quitté la structure",
    )
    entry = JournalEntry.objects.get(action=Action.ACCOUNT_INACTIVATED)
    assert (entry.actor, entry.ip, entry.target_id) == (gestionnaire, "192.0.2.8", str(technicien.pk))
    assert not AccountToken.objects.valid().filter(user=technicien).exists()


def scheduled_departures(count, today):
    """`count` structures, each with a gestionnaire leaving at `today` (one technicien attached) and one staying."""
    demands = []
    for _ in range(count):
        partenaire = partner_with_access().convention_metier.partenaire
        leaving = UserFactory(gestionnaire=True, partenaire=partenaire)
        staying = UserFactory(gestionnaire=True, partenaire=partenaire)
        UserFactory(partenaire=partenaire, attached_to=leaving)
        demands.append(
            GestionnaireRequest.objects.create(
                partenaire=partenaire,
                kind=GestionnaireRequestKind.INACTIVATION,
                target=leaving,
                requested_by=staying,
                wanted_on=today,
                status=RequestStatus.SCHEDULED,
            )
        )
    return demands


@pytest.mark.usefixtures("big_batches")
def test_a11_scheduled_inactivations_cost_the_same_queries_for_3_or_30():
    counts = []
    for size in (3, 30):
        demands = scheduled_departures(size, date(2026, 12, 15))
        with at(date(2026, 12, 15)):
            done, statements = run(habilitations.run_scheduled_inactivations)
        assert done == size
        counts.append(len(statements))
        for demand in demands:
            demand.refresh_from_db()
            assert demand.status == RequestStatus.DONE
            technicien = User.objects.get(attached_to=demand.requested_by)
            entry = JournalEntry.objects.get(action=Action.ACCOUNT_REATTACHED, target_id=str(technicien.pk))
            assert entry.details == {"gestionnaire": demand.requested_by_id}
            assert technicien.history.filter(history_type="~", attached_to=demand.requested_by).exists()
    assert counts[0] == counts[1], counts
    with at(date(2026, 12, 15)):
        again, statements = run(habilitations.run_scheduled_inactivations)
    assert again == 0 and writes(statements) == []


def test_a11_two_departures_of_one_structure_on_the_same_day_leave_one_gestionnaire():
    (first,) = scheduled_departures(1, date(2026, 12, 15))
    second = GestionnaireRequest.objects.create(
        partenaire=first.partenaire,
        kind=GestionnaireRequestKind.INACTIVATION,
        target=first.requested_by,
        requested_by=first.target,
        wanted_on=date(2026, 12, 15),
        status=RequestStatus.SCHEDULED,
    )
    with at(date(2026, 12, 15)):
        assert habilitations.run_scheduled_inactivations() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == RequestStatus.DONE
    assert second.status == RequestStatus.REFUSED and second.refusal_reason == services.LAST_GESTIONNAIRE_MESSAGE
    assert User.objects.get(pk=second.target_id).state == AccountState.ACTIF


# --- A15: deletion 6 months after inactivation ------------------------------------------------------------


def inactivated_accounts(count, on=date(2026, 1, 15)):
    partenaire = PartenaireFactory()
    accounts = UserFactory.create_batch(count, partenaire=partenaire)
    with at(on):
        for account in accounts:
            invitations._issue(account, TokenPurpose.RESET)
            PasswordHistory.objects.create(user=account, password="md5$ancien$x")
            TOTPDevice.objects.create(user=account, name="Téléphone", confirmed=True)
            device = StaticDevice.objects.create(user=account, name="Codes de secours", confirmed=True)
            StaticToken.objects.create(device=device, token="12345678")
        services.inactivate_accounts(
            User.objects.filter(pk__in=[account.pk for account in accounts]), reason=InactivationReason.FRAUD
        )
    return accounts


def test_a15_purge_costs_the_same_queries_for_3_or_150(settings):
    settings.JOBS_BATCH_SIZE = 200
    counts = []
    for size in (3, 150):  # past the 100 rows at a time of Django's deletion collector
        inactivated_accounts(size)
        with at(date(2026, 8, 1)):
            purged, statements = run(lifecycle.purge_inactivated_accounts)
        assert purged == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts  # the catalogue's entries: a few statements each, not one per account


def test_a15_each_purged_account_is_erased_and_journaled_and_a_second_run_writes_nothing():
    accounts = inactivated_accounts(3)
    with at(date(2026, 8, 1)):
        assert lifecycle.purge_inactivated_accounts() == 3
        again, statements = run(lifecycle.purge_inactivated_accounts)
    assert again == 0 and writes(statements) == []
    passwords = set()
    for account in accounts:
        account.refresh_from_db()
        assert account.state == AccountState.SUPPRIME
        assert account.username == f"compte-supprime-{account.pk}"
        assert (account.last_name, account.first_name, account.email, account.phone) == ("", "", "", "")
        assert not account.has_usable_password()
        passwords.add(account.password)
        assert not User.history.filter(id=account.pk).exists()
        for model in (TOTPDevice, StaticDevice, AccountToken, PasswordHistory):
            assert not model.objects.filter(user=account).exists()
        entry = JournalEntry.objects.get(action=Action.ACCOUNT_PURGED, target_id=str(account.pk))
        assert entry.target_label == f"Compte n° {account.pk}"
    assert len(passwords) == 3  # each account its own unusable password, as set_unusable_password() does
    assert not StaticToken.objects.exists()


# --- Two runs at once never change the same row ------------------------------------------------------------


def twice_at_once(job, day):
    barrier = threading.Barrier(2)
    results = []

    def one_run():
        try:
            barrier.wait(timeout=10)
            with at(day):
                results.append(job())
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_a14_two_runs_at_once_never_inactivate_an_account_twice(settings):
    settings.JOBS_BATCH_SIZE = 5
    accounts_without_convention(30)
    results = twice_at_once(lifecycle.inactivate_accounts_without_convention, date(2026, 7, 1))
    assert sum(results) == 30
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_INACTIVATED).count() == 30
    assert User.history.model.objects.filter(history_type="~", state=AccountState.INACTIVE).count() == 30


@pytest.mark.django_db(transaction=True)
def test_c4_two_runs_at_once_never_end_a_convention_twice(settings):
    settings.JOBS_BATCH_SIZE = 3
    conventions_at_term(12)
    results = twice_at_once(lifecycle.end_expired_conventions, date(2026, 7, 1))
    assert sum(results) == 12
    assert JournalEntry.objects.filter(action=Action.CONVENTION_ENDED).count() == 24
    assert ConventionMetier.history.filter(history_type="~").count() == 12


def test_a15_a_batch_keeps_the_job_condition_an_account_changed_meanwhile_is_left_alone(monkeypatch):
    accounts = inactivated_accounts(3)
    erase = lifecycle._erase

    def erase_after_a_change(rows):  # between the job's first query and its batch, one account moves on
        User.objects.filter(pk=accounts[1].pk).update(inactivated_at=datetime(2026, 7, 20, tzinfo=PARIS))
        return erase(rows)

    monkeypatch.setattr(lifecycle, "_erase", erase_after_a_change)
    with at(date(2026, 8, 1)):
        assert lifecycle.purge_inactivated_accounts() == 2
    assert User.objects.get(pk=accounts[1].pk).state == AccountState.INACTIVE
