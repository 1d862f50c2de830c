"""The account and convention life cycle, run by the scheduled jobs (A5, A7, A11, A13–A16, C4).

Every job is batched: it selects only the rows it must change, locks them with `SKIP LOCKED` (two workers
never process the same row), changes them in one transaction per batch and journals them. The ends of
conventions, inactivations and purges are set-based: one UPDATE per batch, history and journal rows
written in bulk, so a batch costs the same number of queries whatever its size. Running a job twice
changes nothing the second time; a job that dies half-way leaves whole batches done and the next run
finishes the rest. Each returns how many rows it changed (or, with `dry_run`, would change).
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from conventions import services as convention_services
from conventions.models import ConventionMetier, ConventionStatus, ConventionUtilisation, Partenaire
from core import audit, personal_data
from core.models import Action
from core.working_days import add_working_days

from . import emails, passwords, services
from .models import (
    OCCUPYING_STATES,
    STAFF_PROFILES,
    AccountState,
    AccountToken,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    RequestStatus,
    User,
)
from .personal_data import person_of

PURGE_AFTER_MONTHS = 6


def purge_due(inactivated_at: datetime, now: datetime) -> bool:
    """A15: due once 6 calendar months have passed since the inactivation, on the Paris calendar (an account
    inactivated on 31/08 at 10:00 is due on 28/02, or 29/02, at 10:00; one of 30/11 at 11:35 on 30/05 at 11:35)."""
    due_at = timezone.localtime(inactivated_at) + relativedelta(months=PURGE_AFTER_MONTHS)
    return due_at <= timezone.localtime(now)


def due_for_purge(now: datetime):
    """The inactivated accounts `purge_due` says are due, in one query on the date: 6 calendar months are 181 to
    184 days (and an hour of summer time), so those inactivated more than 185 days ago are due and those of the
    last 180 days are not; the few in between are decided one by one."""
    inactive = User.objects.filter(state=AccountState.INACTIVE)
    surely, not_yet = now - timedelta(days=185), now - timedelta(days=180)
    between = inactive.filter(inactivated_at__gt=surely, inactivated_at__lte=not_yet)
    edge = [pk for pk, at in between.values_list("pk", "inactivated_at") if purge_due(at, now)]
    return inactive.filter(Q(inactivated_at__lte=surely) | Q(pk__in=edge))


def _in_batches(queryset, change, *, dry_run: bool) -> int:
    """Apply `change(batch)` to the rows of `queryset`, batch by batch, each batch locked and committed."""
    if dry_run:
        return queryset.count()
    batch_size = settings.JOBS_BATCH_SIZE
    done = 0
    while True:
        with transaction.atomic():
            batch = list(queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk")[:batch_size])
            if not batch:
                return done
            change(batch)
        done += len(batch)


def _by_batches(due, change: Callable[[models.QuerySet], int]) -> int:
    """Run `change(rows)`, one batch locked and committed by itself, on the rows of `due`, about
    JOBS_BATCH_SIZE at a time. The rows are found once, in one query, and cut into ranges of primary keys:
    each batch is `due` within its range, so a row another run has changed meanwhile is left alone."""
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    size = settings.JOBS_BATCH_SIZE
    ranges = [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]
    return sum(change(due.filter(pk__range=bounds)) for bounds in ranges)


# --- C4, A14: conventions at their end date ------------------------------------------------------------


def end_expired_conventions(*, today: date | None = None, dry_run: bool = False) -> int:
    """Conventions métier whose end date has passed are ended, with their convention d'utilisation."""
    today = today or timezone.localdate()
    due = ConventionMetier.objects.past_their_end_date(today)
    if dry_run:
        return due.count()
    return _by_batches(due, lambda rows: convention_services.end_conventions_at_term(rows, today=today))


def partners_without_convention(today: date):
    """Partners that held a convention and have none left in force (A14). A partner that never had one
    (accounts cannot exist then) is not a convention end."""
    in_force = ConventionUtilisation.objects.in_force(today).values("convention_metier__partenaire")
    return Partenaire.objects.filter(Exists(ConventionMetier.objects.filter(partenaire=OuterRef("pk")))).exclude(
        pk__in=in_force
    )


def inactivate_accounts_without_convention(*, today: date | None = None, dry_run: bool = False) -> int:
    """A14: a partner with no convention left in force loses all its accounts; one that keeps another
    caisse keeps them (only its access to the ended caisse goes, computed by C7)."""
    today = today or timezone.localdate()
    due = User.objects.filter(partenaire__in=partners_without_convention(today), state__in=OCCUPYING_STATES)
    if dry_run:
        return due.count()
    return _by_batches(
        due, lambda rows: len(services.inactivate_accounts(rows, reason=InactivationReason.CONVENTION_ENDED))
    )


# --- A15: deletion 6 months after inactivation ----------------------------------------------------------


def purge_inactivated_accounts(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Accounts inactivated 6 months ago or more are deleted: personal data erased, history of the
    account erased, the row kept (anonymous) so that the requests it filed stay in the partner's history."""
    now = now or timezone.now()
    due = due_for_purge(now)
    if dry_run:
        return due.count()
    return _by_batches(due, _erase)


@transaction.atomic
def _erase(rows) -> int:
    """One batch of the purge, in a constant number of queries; rows another transaction holds are skipped.
    What identifies the accounts is gathered first, then every entry of the catalogue of personal data
    (core.personal_data, declared by each app) erases its part, wherever it lives."""
    users = list(rows.select_for_update(skip_locked=True, of=("self",)).only("pk").order_by("pk"))
    if not users:
        return 0
    personal_data.apply_all(person_of([user.pk for user in users]))
    audit.record_many(Action.ACCOUNT_PURGED, users)  # labelled by their number only
    return len(users)


# --- A7: invitations and password reminders --------------------------------------------------------------


def expire_invitations(*, now: datetime | None = None, dry_run: bool = False) -> int:
    now = now or timezone.now()
    expired = AccountToken.objects.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)
    return expired.count() if dry_run else expired.update(revoked_at=now)


def remind_password_expiry(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """One email per password, when it expires within PASSWORD_EXPIRY_REMINDER_DAYS."""
    now = now or timezone.now()
    window = timedelta(days=settings.PASSWORD_EXPIRY_REMINDER_DAYS)
    reminded = 0
    for staff, days in ((True, settings.PASSWORD_MAX_AGE_DAYS_STAFF), (False, settings.PASSWORD_MAX_AGE_DAYS_PARTNER)):
        changed_before = now - timedelta(days=days) + window
        profiles = Q(profile__in=STAFF_PROFILES) if staff else ~Q(profile__in=STAFF_PROFILES)
        due = User.objects.filter(profiles, state=AccountState.ACTIF, password_changed_at__lte=changed_before).filter(
            Q(password_reminder_sent_at__isnull=True) | Q(password_reminder_sent_at__lt=F("password_changed_at"))
        )
        reminded += _in_batches(due, lambda batch: _remind_password(batch, now), dry_run=dry_run)
    return reminded


def _remind_password(batch, now) -> None:
    for user in batch:
        expiry = passwords.expires_at(user)
        emails.send(
            "password_expiry",
            [user.email],
            {"user": user, "expires_on": expiry, "link": emails.absolute_url(reverse("password_change"))},
        )
        user.password_reminder_sent_at = now
    User.objects.bulk_update(batch, ["password_reminder_sent_at"])


# --- A16, A5: reviews due, habilitation deadlines ---------------------------------------------------------


def remind_reviews(*, today: date | None = None, dry_run: bool = False) -> int:
    """Reviews not attested, due within 7 days or late: the partner's gestionnaires are reminded weekly."""
    today = today or timezone.localdate()
    due = HabilitationReview.objects.filter(attested_at__isnull=True, due_on__lte=today + timedelta(days=7)).filter(
        Q(reminded_on__isnull=True) | Q(reminded_on__lte=today - timedelta(days=7))
    )

    def remind(batch):
        for review in batch:
            recipients = list(services.active_gestionnaires(review.partenaire).values_list("email", flat=True))
            emails.send(
                "review_reminder", recipients, {"review": review, "link": emails.absolute_url(reverse("accounts_list"))}
            )
            review.reminded_on = today
        HabilitationReview.objects.bulk_update(batch, ["reminded_on"])

    return _in_batches(due, remind, dry_run=dry_run)


def remind_habilitation_deadlines(*, today: date | None = None, dry_run: bool = False) -> int:
    """Pending habilitation requests due tomorrow or late: the caisse's agents are reminded once a day."""
    today = today or timezone.localdate()
    due = HabilitationRequest.objects.filter(status=RequestStatus.PENDING, due_on__lte=add_working_days(today, 1))
    due = due.filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))

    def remind(batch):
        for demand in batch:
            caisses = {
                c.caisse for c in demand.partenaire.conventions_metier.filter(status=ConventionStatus.EN_VIGUEUR)
            }
            recipients = sorted({a.email for caisse in caisses for a in services.agents_of(caisse) if a.email})
            emails.send(
                "habilitation_deadline",
                recipients,
                {
                    "demand": demand,
                    "late": demand.due_on < today,
                    "link": emails.absolute_url(reverse("admin:accounts_habilitationrequest_change", args=[demand.pk])),
                },
            )
            demand.reminded_on = today
        HabilitationRequest.objects.bulk_update(batch, ["reminded_on"])

    return _in_batches(due, remind, dry_run=dry_run)
