"""The one service that writes the audit journal (P4): `record` appends one event, `record_many` appends one
event per target in a single INSERT (the scheduled jobs, whatever the size of their batch).

Who and from where come from the audit context (`core.audit_context`: the web request's signed-in user and
address, or a job run's id), set once by the middleware or the job runner. An explicit `actor` wins (an event
recorded on behalf of someone else than the signed-in user); an explicit `request` (the authentication
signals, which hand over theirs) gives its own user and address.
"""

from collections.abc import Callable, Iterable

from django.db import models

from .audit_context import client_ip, current, signed_in_user
from .models import Action, JournalEntry

__all__ = ["client_ip", "record", "record_many"]


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
