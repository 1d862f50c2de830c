"""The scheduled jobs on PostgreSQL, with time-machine: A14, C4, A11, A15, A7, A16, A5."""

import threading
import uuid
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.management import call_command
from django.db import close_old_connections, connection

from accounts import habilitations, lifecycle, services
from accounts.models import (
    AccountState,
    AccountToken,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    TokenPurpose,
    User,
)
from conventions.models import ConventionStatus
from core.models import Action, JournalEntry
from requests_app import services as demande_services
from requests_app.models import Demande, DemandeKind
from tests.accounts.factories import UserFactory
from tests.conventions.factories import ConventionUtilisationFactory, DomaineEmailFactory, partner_with_access

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(day: date, hour=3):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=PARIS), tick=False)


@pytest.fixture
def ending():
    """A partner whose only convention ends on 30 June 2026, with two accounts."""
    convention = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 6, 30))
    partenaire = convention.convention_metier.partenaire
    accounts = [UserFactory(gestionnaire=True, partenaire=partenaire), UserFactory(partenaire=partenaire)]
    return convention, accounts


def states(accounts):
    return [User.objects.get(pk=account.pk).state for account in accounts]


def test_c4_a14_the_day_of_the_end_date_nothing_changes(ending):
    convention, accounts = ending
    with at(date(2026, 6, 30)):
        assert lifecycle.end_expired_conventions() == 0
        assert lifecycle.inactivate_accounts_without_convention() == 0
    assert states(accounts) == [AccountState.ACTIF, AccountState.ACTIF]


def test_c4_a14_the_day_after_the_convention_ends_and_its_accounts_are_inactivated(ending):
    convention, accounts = ending
    with at(date(2026, 7, 1)):
        assert lifecycle.end_expired_conventions() == 1
        assert lifecycle.inactivate_accounts_without_convention() == 2
        # Twice: nothing more.
        assert lifecycle.end_expired_conventions() == 0
        assert lifecycle.inactivate_accounts_without_convention() == 0
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.TERMINEE
    assert states(accounts) == [AccountState.INACTIVE, AccountState.INACTIVE]
    assert User.objects.get(pk=accounts[0].pk).inactivation_reason == InactivationReason.CONVENTION_ENDED
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_INACTIVATED).count() == 2
    assert User.history.filter(id=accounts[1].pk, state=AccountState.INACTIVE).exists()


def test_a14_a_partner_keeping_another_caisse_keeps_its_accounts(ending):
    convention, accounts = ending
    ConventionUtilisationFactory(convention_metier__partenaire=convention.convention_metier.partenaire)
    with at(date(2026, 7, 1)):
        lifecycle.end_expired_conventions()
        assert lifecycle.inactivate_accounts_without_convention() == 0
    assert states(accounts) == [AccountState.ACTIF, AccountState.ACTIF]


def test_a15_purge_six_months_after_inactivation_not_a_day_before():
    partenaire = partner_with_access().convention_metier.partenaire
    account = UserFactory(partenaire=partenaire, first_name="Léa", last_name="Fontaine", email="lea@x.example")
    demande = demande_services.submit_demande(
        user=account,
        caisse=partenaire.conventions_metier.get().caisse,
        kind=DemandeKind.CONTACT,
        fields={
            "assure_civilite": "m",
            "assure_last_name": "Durand",
            "assure_first_name": "Noé",
            "assure_birth_date": date(1990, 1, 1),
            "assure_departement": "59",
        },
        message="Bonjour",
        form_token=uuid.uuid4(),
    )
    with at(date(2026, 1, 15), hour=10):
        services.inactivate_account(account, reason=InactivationReason.LEFT_STRUCTURE)
    with at(date(2026, 7, 14), hour=23):
        assert lifecycle.purge_inactivated_accounts() == 0
    with at(date(2026, 7, 15), hour=11):
        assert lifecycle.purge_inactivated_accounts() == 1
        assert lifecycle.purge_inactivated_accounts() == 0
    account.refresh_from_db()
    assert account.state == AccountState.SUPPRIME
    assert (account.first_name, account.last_name, account.email) == ("", "", "")
    assert account.username == f"compte-supprime-{account.pk}"
    assert not User.history.filter(id=account.pk).exclude(last_name="").exists()
    assert Demande.objects.get(pk=demande.pk).filed_by == account  # still in the partner's history
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_PURGED, target_id=str(account.pk)).count() == 1
    assert not User.objects.filter(last_name="Fontaine").exists()


def test_a11_scheduled_inactivation_runs_at_its_date():
    partenaire = partner_with_access().convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    first = UserFactory(gestionnaire=True, partenaire=partenaire)
    second = UserFactory(gestionnaire=True, partenaire=partenaire)
    agent = UserFactory(agent=True)
    with at(date(2026, 11, 26)):
        demand = habilitations.request_gestionnaire_inactivation(first, date(2026, 12, 15), requested_by=second)
        habilitations.apply_gestionnaire_request(demand, actor=agent)
    with at(date(2026, 12, 14)):
        call_command("run_jobs", "inactivations_programmees", stdout=StringIO())
    assert states([first]) == [AccountState.ACTIF]
    with at(date(2026, 12, 15)):
        call_command("run_jobs", "inactivations_programmees", stdout=StringIO())
    assert states([first]) == [AccountState.INACTIVE]


def test_a7_expired_invitation_links_are_invalidated_once():
    user = UserFactory(state=AccountState.INVITE)
    with at(date(2026, 3, 1)):
        from accounts import invitations

        invitations._issue(user, TokenPurpose.ACTIVATION)
    with at(date(2026, 3, 3)):
        assert lifecycle.expire_invitations() == 0
    with at(date(2026, 3, 5)):
        assert lifecycle.expire_invitations() == 1
        assert lifecycle.expire_invitations() == 0
    assert AccountToken.objects.get().revoked_at is not None


def test_a7_password_expiry_reminder_is_sent_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    with at(date(2025, 1, 10)):
        user.password_changed_at = datetime(2025, 1, 10, tzinfo=PARIS)
        user.save()
    with at(date(2025, 12, 20)), django_capture_on_commit_callbacks(execute=True):  # 21 days before expiry
        assert lifecycle.remind_password_expiry() == 0
    with at(date(2025, 12, 27)), django_capture_on_commit_callbacks(execute=True):  # 14 days before
        assert lifecycle.remind_password_expiry() == 1
        assert lifecycle.remind_password_expiry() == 0
    (message,) = mail.outbox
    assert "expire le 10/01/2026" in message.body


def test_a16_review_reminder_weekly_and_a5_habilitation_deadline_reminder(django_capture_on_commit_callbacks):
    convention = partner_with_access()
    partenaire = convention.convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    UserFactory(gestionnaire=True, partenaire=partenaire, email="g@structure.example")
    agent = UserFactory(agent=True, caisse=convention.convention_metier.caisse, email="agent@cpam.example")
    HabilitationReview.objects.create(partenaire=partenaire, due_on=date(2026, 12, 1), requested_by=agent)
    with at(date(2026, 11, 26)):
        habilitations.record_habilitation_request(
            HabilitationRequest(
                partenaire=partenaire,
                civilite="m",
                last_name="X",
                first_name="Y",
                job_title="Z",
                phone="01",
                email="y@structure.example",
            )
        )
    with at(date(2026, 11, 27)), django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.remind_reviews() == 1
        assert lifecycle.remind_reviews() == 0
        assert lifecycle.remind_habilitation_deadlines() == 0  # due on 3 December
    with at(date(2026, 12, 2)), django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.remind_habilitation_deadlines() == 1
        assert lifecycle.remind_habilitation_deadlines() == 0
    recipients = [message.to for message in mail.outbox]
    assert ["g@structure.example"] in recipients and ["agent@cpam.example"] in recipients


def test_run_jobs_dry_run_changes_nothing(ending):
    convention, accounts = ending

    out = StringIO()
    with at(date(2026, 7, 1)):
        call_command("run_jobs", "--dry-run", stdout=out)
    assert "Conventions arrivées à échéance (fin_conventions) : 1 ligne(s) à modifier" in out.getvalue()
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.EN_VIGUEUR


@pytest.mark.django_db(transaction=True)
def test_a15_two_purges_at_once_never_process_an_account_twice():
    partenaire = partner_with_access().convention_metier.partenaire
    accounts = UserFactory.create_batch(30, partenaire=partenaire)
    with at(date(2026, 1, 15)):
        for account in accounts:
            services.inactivate_account(account, reason=InactivationReason.LEFT_STRUCTURE)
    barrier = threading.Barrier(2)
    results = []

    def purge():
        try:
            barrier.wait(timeout=10)
            with at(date(2026, 8, 1)):
                results.append(lifecycle.purge_inactivated_accounts())
        finally:
            connection.close()

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    assert sum(results) == 30
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_PURGED).count() == 30
    assert User.objects.filter(state=AccountState.SUPPRIME).count() == 30


PARIS = ZoneInfo("Europe/Paris")


def first_nightly_run(moment: datetime) -> datetime:
    """The purge's first run (02:00, Paris) at or after `moment`."""
    run = moment.replace(hour=2, minute=0, second=0, microsecond=0)
    return run if run >= moment else run + timedelta(days=1)


def test_a15_purge_falls_on_the_first_nightly_run_after_six_calendar_months_every_day_of_2024_to_2028():
    """Every day of five years (leap years, month ends, summer time) at 00:00, 11:35 and 23:59 in Paris: the
    purge is due at the first nightly run at or after T + 6 calendar months, and not at the run before."""
    day, wrong = date(2024, 1, 1), []
    while day <= date(2028, 12, 31):
        for hour, minute in ((0, 0), (11, 35), (23, 59)):
            inactivated = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
            run = first_nightly_run(inactivated + relativedelta(months=6))
            if not lifecycle.purge_due(inactivated, run) or lifecycle.purge_due(inactivated, run - timedelta(days=1)):
                wrong.append(inactivated)
        day += timedelta(days=1)
    assert wrong == []


@pytest.mark.parametrize(
    ("inactivated", "due_run"),
    [
        (datetime(2025, 11, 30, 11, 35), datetime(2026, 5, 31, 2)),  # 30/05 11:35: the night after, not a day late
        (datetime(2026, 8, 31, 10), datetime(2027, 3, 1, 2)),  # 28/02 10:00 (no 31/02)
        (datetime(2027, 8, 31, 1), datetime(2028, 2, 29, 2)),  # 29/02 01:00 of a leap year
        (datetime(2026, 3, 29, 2, 30), datetime(2026, 9, 30, 2)),  # summer time's first day
    ],
)
def test_a15_the_purge_query_takes_exactly_the_due_accounts(inactivated, due_run):
    """The query (one range on the date, the boundary decided one by one) agrees with the calendar: the
    account is purged by the run that is due and not by the one before."""
    account = UserFactory(
        state=AccountState.INACTIVE,
        inactivated_at=inactivated.replace(tzinfo=PARIS),
        inactivation_reason=InactivationReason.LEFT_STRUCTURE,
    )
    due_run = due_run.replace(tzinfo=PARIS)
    assert not lifecycle.due_for_purge(due_run - timedelta(days=1)).filter(pk=account.pk).exists()
    assert lifecycle.due_for_purge(due_run).filter(pk=account.pk).exists()
    assert lifecycle.purge_inactivated_accounts(now=due_run - timedelta(days=1)) == 0
    assert lifecycle.purge_inactivated_accounts(now=due_run) == 1
