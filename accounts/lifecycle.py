"""The account and convention life cycle, run by the scheduled jobs (A5, A7, A11, A13–A16, C4).

Every job is set-based and batched: it selects only the rows it must change, locks them with
`SKIP LOCKED` (two workers never process the same row), changes them in one transaction per batch and
journals them. Running a job twice changes nothing the second time; a job that dies half-way leaves
whole batches done and the next run finishes the rest. Each returns how many rows it changed (or, with
`dry_run`, would change).
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from conventions import services as convention_services
from conventions.models import ConventionMetier, ConventionStatus, ConventionUtilisation
from portal.models import Action, JournalEntry

from . import emails, passwords
from .models import (
    OCCUPYING_STATES,
    STAFF_PROFILES,
    AccountState,
    AccountToken,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    PasswordHistory,
    RequestStatus,
    User,
)

logger = logging.getLogger(__name__)
PURGE_AFTER_MONTHS = 6


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the last day when it does not exist)."""
    month_index = moment.month - 1 - months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = moment.day
    while True:  # 31 August → 28 or 29 February
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _journal(action: Action, users, details=None) -> None:
    JournalEntry.objects.bulk_create(
        JournalEntry(
            action=action,
            target_type=User._meta.label_lower,
            target_id=str(u.pk),
            target_label=u.audit_label,
            details=details or {},
        )
        for u in users
    )


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


# --- C4, A14: conventions at their end date ------------------------------------------------------------


def end_expired_conventions(*, today: date | None = None, dry_run: bool = False) -> int:
    """Conventions métier whose end date has passed are ended, with their convention d'utilisation."""
    today = today or timezone.localdate()
    due = ConventionMetier.objects.filter(status=ConventionStatus.EN_VIGUEUR, end_date__lt=today)
    if dry_run:
        return due.count()
    ended = 0
    for convention_id in due.values_list("pk", flat=True).iterator():
        try:
            convention_services.end_convention_metier(ConventionMetier(pk=convention_id))
            ended += 1
        except Exception:  # a broken row is reported and skipped: the others still end
            logger.exception("fin de convention %s : ignorée", convention_id)
    return ended


def partners_without_convention_q(today: date) -> Q:
    """Accounts of partners left with no convention d'utilisation in force (A14)."""
    in_force = ConventionUtilisation.objects.in_force(today).values("convention_metier__partenaire")
    return Q(partenaire__isnull=False) & ~Q(partenaire__in=in_force)


def inactivate_accounts_without_convention(*, today: date | None = None, dry_run: bool = False) -> int:
    """A14: a partner with no convention left in force loses all its accounts; one that keeps another
    caisse keeps them (only its access to the ended caisse goes, computed by C7)."""
    today = today or timezone.localdate()
    accounts = User.objects.filter(partners_without_convention_q(today), state__in=OCCUPYING_STATES)
    # A partner that never had a convention (accounts cannot exist then) is not a convention end.
    accounts = accounts.filter(partenaire__conventions_metier__isnull=False).distinct()
    return _in_batches(
        User.objects.filter(pk__in=accounts.values("pk")),
        lambda batch: _inactivate(batch, InactivationReason.CONVENTION_ENDED),
        dry_run=dry_run,
    )


def _inactivate(batch, reason: InactivationReason) -> None:
    now = timezone.now()
    for user in batch:
        user.state, user.state_changed_at = AccountState.INACTIVE, now
        user.inactivated_at, user.inactivation_reason = now, reason
    bulk_update_with_history(
        batch,
        User,
        ["state", "state_changed_at", "inactivated_at", "inactivation_reason"],
        default_change_reason=reason.label,
    )
    AccountToken.objects.filter(user__in=batch, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    _journal(Action.ACCOUNT_INACTIVATED, batch, {"motif": reason.value})


# --- A15: deletion 6 months after inactivation ----------------------------------------------------------


def purge_inactivated_accounts(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Accounts inactivated 6 months ago or more are deleted: personal data erased, history of the
    account erased, the row kept (anonymous) so that the requests it filed stay in the partner's history."""
    now = now or timezone.now()
    due = User.objects.filter(state=AccountState.INACTIVE, inactivated_at__lte=months_before(now, PURGE_AFTER_MONTHS))
    return _in_batches(due, _erase, dry_run=dry_run)


def _erase(batch) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    now = timezone.now()
    ids = [user.pk for user in batch]
    for user in batch:
        user.username = f"compte-supprime-{user.pk}"
        user.civilite = user.last_name = user.first_name = user.job_title = user.phone = user.email = ""
        user.inactivation_comment = ""
        user.set_unusable_password()
        user.state, user.state_changed_at = AccountState.SUPPRIME, now
    User.objects.bulk_update(
        batch,
        [
            "username",
            "civilite",
            "last_name",
            "first_name",
            "job_title",
            "phone",
            "email",
            "inactivation_comment",
            "password",
            "state",
            "state_changed_at",
        ],
    )
    User.history.filter(id__in=ids).delete()  # the model history kept the name, email and phone
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user_id__in=ids).delete()
    AccountToken.objects.filter(user_id__in=ids).delete()
    PasswordHistory.objects.filter(user_id__in=ids).delete()
    _journal(Action.ACCOUNT_PURGED, batch)


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
        from .services import active_gestionnaires

        for review in batch:
            recipients = list(active_gestionnaires(review.partenaire).values_list("email", flat=True))
            emails.send(
                "review_reminder", recipients, {"review": review, "link": emails.absolute_url(reverse("accounts_list"))}
            )
            review.reminded_on = today
        HabilitationReview.objects.bulk_update(batch, ["reminded_on"])

    return _in_batches(due, remind, dry_run=dry_run)


def remind_habilitation_deadlines(*, today: date | None = None, dry_run: bool = False) -> int:
    """Pending habilitation requests due tomorrow or late: the caisse's agents are reminded once a day."""
    from portal.working_days import add_working_days
    from requests_app.services import agents_of

    today = today or timezone.localdate()
    due = HabilitationRequest.objects.filter(status=RequestStatus.PENDING, due_on__lte=add_working_days(today, 1))
    due = due.filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))

    def remind(batch):
        for demand in batch:
            caisses = {
                c.caisse for c in demand.partenaire.conventions_metier.filter(status=ConventionStatus.EN_VIGUEUR)
            }
            recipients = sorted({a.email for caisse in caisses for a in agents_of(caisse) if a.email})
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
