"""Retention (P6): what is not an account is kept for its period (a setting), then erased by a nightly job.

A period counts from a moment of the row (sent, given up, closure of its request, written) on the Paris
calendar, as `relativedelta` counts it: 3 months from 30/11 at 11:35 end on 28/02 (29/02) at 11:35, and a
row is due at that instant, not a second before. The database says it in one query (`PeriodOver`: its interval
arithmetic clamps to the month's end the same way), next to a slightly wider range on the column that lets
its index serve the query.

Every job here and in `requests_app.retention` is batched like the other jobs: rows locked with `SKIP LOCKED`,
one transaction and the same few queries per batch, a second run changes nothing, `dry_run` only counts. Each
batch is journaled by its count alone: never a name, a text or an identifier of what was erased.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils import timezone

from . import audit
from .models import Action, JournalEntry, OutboxEmail

# The database refuses to delete a journal row younger than this, whatever the settings say (migration
# core 0005): the lower bound of the CNIL's recommendation on logging.
JOURNAL_FLOOR_MONTHS = 6
# A calendar month is 28 to 31 days and a year 365 or 366, summer time adds an hour: the range given to the
# index is this much wider than the exact condition.
_SLACK = timedelta(days=4)


def period(*, years: int = 0, months: int = 0, days: int = 0) -> relativedelta:
    return relativedelta(years=years, months=months, days=days)


def is_over(moment: datetime | None, keep: relativedelta, now: datetime) -> bool:
    """The rule itself, in Python: the period that started at `moment` has ended at `now` (Paris calendar)."""
    return moment is not None and timezone.localtime(moment) + keep <= timezone.localtime(now)


class PeriodOver(Func):
    """SQL for `is_over(column, keep, now)`: the column's Paris wall-clock time plus the interval, at or before
    `now`'s (PostgreSQL clamps "31/08 + 6 months" to 28/02 as relativedelta does)."""

    output_field = BooleanField()

    def __init__(self, expression, keep: relativedelta, now: datetime):
        super().__init__(expression)
        self.keep, self.now = keep, now

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        interval = f"{self.keep.years} years {self.keep.months} months {self.keep.days} days"
        zone = settings.TIME_ZONE
        sql = f"(({column} AT TIME ZONE %s) + CAST(%s AS interval) <= (CAST(%s AS timestamptz) AT TIME ZONE %s))"
        return sql, (*params, zone, interval, self.now, zone)

    def as_sqlite(self, compiler, connection, **extra):
        # The embedded database of `make run` has no interval arithmetic: the cut computed in Python (it may
        # differ from the exact rule by a day at the end of a month, on a development machine only).
        column, params = compiler.compile(self.source_expressions[0])
        cut = connection.ops.adapt_datetimefield_value(timezone.localtime(self.now) - self.keep)
        return f"({column} <= %s)", (*params, cut)


def over(field: str, keep: relativedelta, now: datetime) -> Q:
    """Rows whose period, counted from `field`, is over at `now`."""
    return Q(**{f"{field}__lte": timezone.localtime(now) - keep + _SLACK}) & Q(PeriodOver(F(field), keep, now))


def in_batches(
    queryset: QuerySet, change: Callable[[list], None], *, what: str, dry_run: bool, fields: tuple = ()
) -> int:
    """Apply `change(batch)` to the rows of `queryset`, batch by batch, each batch locked (SKIP LOCKED), changed,
    journaled by its count and committed. `change` must take the rows out of `queryset`."""
    if dry_run:
        return queryset.count()
    locked = queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk").only("pk", *fields)
    done = 0
    while True:
        with transaction.atomic():
            batch = list(locked[: settings.JOBS_BATCH_SIZE])
            if not batch:
                return done
            change(batch)
            audit.record(Action.RETENTION_APPLIED, details={"donnees": what, "lignes": len(batch)})
        done += len(batch)


# --- Emails of the outbox ----------------------------------------------------------------------------------


def delete_old_emails(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Sent emails, and given-up ones, deleted RETENTION_SENT_EMAILS_DAYS after they were sent or given up;
    an email still waiting to be sent is kept."""
    now = now or timezone.now()
    keep = period(days=settings.RETENTION_SENT_EMAILS_DAYS)
    due = OutboxEmail.objects.filter(over("sent_at", keep, now) | over("given_up_at", keep, now))

    def delete(batch):
        OutboxEmail.objects.filter(pk__in=[email.pk for email in batch]).delete()

    return in_batches(due, delete, what="emails envoyés ou abandonnés", dry_run=dry_run)


# --- The audit journal ---------------------------------------------------------------------------------------


def delete_old_journal_rows(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Journal rows deleted RETENTION_JOURNAL_MONTHS after they were written.

    The table refuses any DELETE (P4) except, in a transaction that names the latest instant it deletes up to
    (the transaction-local setting `portal.journal_retention_until`), of rows written before it and more than
    six months ago (the DELETE trigger of migration core 0005_retention). The application cannot erase recent
    evidence even by mistake, and an ad-hoc DELETE without the setting is refused as before.
    """
    now = now or timezone.now()
    keep = period(months=settings.RETENTION_JOURNAL_MONTHS)
    due = JournalEntry.objects.filter(over("at", keep, now))

    def delete(batch):
        ids = [entry.pk for entry in batch]
        latest = max(entry.at for entry in batch)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('portal.journal_retention_until', %s, true)", [latest.isoformat()])
                cursor.execute("DELETE FROM portal_journalentry WHERE id = ANY(%s)", [ids])
                # Unset at once: the rest of the transaction is append-only again.
                cursor.execute("SELECT set_config('portal.journal_retention_until', '', true)")
            else:  # the embedded SQLite of `make run`: no trigger
                cursor.executemany("DELETE FROM portal_journalentry WHERE id = %s", [(pk,) for pk in ids])

    return in_batches(due, delete, what="entrées du journal d'audit", dry_run=dry_run, fields=("at",))
