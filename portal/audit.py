"""The one service that writes the audit journal (P4): `record` appends one event, `record_many` appends one
event per target in a single INSERT (the scheduled jobs, whatever the size of their batch)."""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import models

from .models import Action, JournalEntry


def client_ip(request) -> str | None:
    """The client's address. Behind our proxy (DJANGO_BEHIND_PROXY), the last X-Forwarded-For entry, the
    one the proxy wrote: the entries before it come from the client and can be forged."""
    if request is None:
        return None
    if settings.AUDIT_TRUST_X_FORWARDED_FOR:
        entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
        if entries:
            return entries[-1]
    return request.META.get("REMOTE_ADDR") or None


def _actor(actor, request):
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        return request.user if request.user.is_authenticated else None
    return actor


def _entry(action: Action, *, actor, ip, target: models.Model | None, details: dict | None) -> JournalEntry:
    entry = JournalEntry(action=action, actor=actor, ip=ip, details=details or {})
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
    entry = _entry(action, actor=_actor(actor, request), ip=client_ip(request), target=target, details=details)
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
    actor, ip = _actor(actor, request), client_ip(request)
    entries = [
        _entry(action, actor=actor, ip=ip, target=target, details=details(target) if callable(details) else details)
        for target in targets
    ]
    return JournalEntry.objects.bulk_create(entries) if entries else []
