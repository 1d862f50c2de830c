"""The one service that writes the audit journal (P4): `record` appends one event, `record_many` appends one
event per target in a single INSERT, `entries_sql` / `record_from_query` one event per row of a query,
written by the database itself (the scheduled jobs' batches: nothing built row by row in Python).

Who and from where come from the audit context (`core.audit_context`: the web request's signed-in user and
address, or a job run's id), set once by the middleware or the job runner. An explicit `actor` wins (an event
recorded on behalf of someone else than the signed-in user); an explicit `request` (the authentication
signals, which hand over theirs) gives its own user and address.
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import CharField
from django.db.models.functions import Cast, Left
from django.utils import timezone

from .audit_context import client_ip, current, signed_in_user
from .models import Action, JournalEntry

__all__ = ["client_ip", "entries_sql", "record", "record_from_query", "record_many"]


def _who_and_where(actor, request) -> tuple:
    """(actor, ip, run id) of an event."""
    context = current()
    if request is not None:
        return (actor if actor is not None else signed_in_user(request)), client_ip(request), context.run_id
    return (actor if actor is not None else context.actor), context.ip, context.run_id


def _entry(action: Action, *, actor, ip, run_id, target: models.Model | None, details: dict | None) -> JournalEntry:
    entry = JournalEntry(action=action, actor=actor, ip=ip, run_id=run_id or "", details=details or {})
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        # Accounts are named by number only: the journal never changes, a person's name must be erasable (A15).
        entry.target_label = str(getattr(target, "audit_label", None) or target)[:200]
    return entry


def record(
    action: Action,
    *,
    actor=None,
    target: models.Model | None = None,
    request=None,
    details: dict | None = None,
) -> JournalEntry:
    """Append one event. `details` must never hold personal data about an insured person."""
    actor, ip, run_id = _who_and_where(actor, request)
    entry = _entry(action, actor=actor, ip=ip, run_id=run_id, target=target, details=details)
    entry.save()
    return entry


def record_many(
    action: Action,
    targets: Iterable[models.Model],
    *,
    actor=None,
    request=None,
    details: dict | Callable[[models.Model], dict | None] | None = None,
) -> list[JournalEntry]:
    """Append the same event for each target, in one query. `details` is one dict for every target or a
    function of the target; like `record`'s, it never holds personal data about an insured person."""
    actor, ip, run_id = _who_and_where(actor, request)
    entries = [
        _entry(
            action,
            actor=actor,
            ip=ip,
            run_id=run_id,
            target=target,
            details=details(target) if callable(details) else details,
        )
        for target in targets
    ]
    return JournalEntry.objects.bulk_create(entries) if entries else []


def entries_sql(action: Action, queryset: models.QuerySet, *, actor=None, details: dict | None = None):
    """(sql, params) of the INSERT … SELECT appending the same event for each row of `queryset`, labelled in
    SQL by the model's `audit_label_expression()` (the same text as its Python label). Run it alone
    (`record_from_query`) or as a step of a batch's statement (`core.set_based`)."""
    actor, ip, run_id = _who_and_where(actor, None)
    model = queryset.model
    connection = connections[queryset.db]
    rows = queryset.order_by().values_list(
        Cast("pk", output_field=CharField()), Left(model.audit_label_expression(), 200)
    )
    select, select_params = rows.query.sql_with_params()
    constants = {
        "at": timezone.now(),
        "actor_id": actor.pk if actor is not None else None,
        "action": action,
        "target_type": model._meta.label_lower,
        "ip": ip,
        "run_id": run_id or "",
        "details": details or {},
    }
    field = {f.attname: f for f in JournalEntry._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = [quote(field[name].column) for name in [*constants, "target_id", "target_label"]]
    params = [field[name].get_db_prep_save(value, connection) for name, value in constants.items()]
    # Names from the models' metadata and SQL compiled by Django; every value goes as a parameter.
    sql = (
        f"INSERT INTO {quote(JournalEntry._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(constants))}, targets.* FROM ({select}) targets"
    )
    return sql, [*params, *select_params]


def record_from_query(action: Action, queryset: models.QuerySet, *, actor=None, details: dict | None = None) -> int:
    """Append the same event for each row of `queryset`, in one INSERT … SELECT; return how many."""
    try:
        sql, params = entries_sql(action, queryset, actor=actor, details=details)
    except EmptyResultSet:  # .none(): nothing to write, nothing to ask
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
