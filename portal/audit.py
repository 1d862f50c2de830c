"""The one service that writes the audit journal (P4)."""

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


def record(
    action: Action,
    *,
    actor=None,
    target: models.Model | None = None,
    request=None,
    details: dict | None = None,
) -> JournalEntry:
    """Append one event. `details` must never hold personal data about an insured person."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    entry = JournalEntry(
        action=action,
        actor=actor,
        ip=client_ip(request),
        details=details or {},
    )
    _aim(entry, target)
    entry.save()
    return entry


def record_many(action: Action, targets, *, actor=None, details: dict | None = None) -> list[JournalEntry]:
    """The same event on many objects, in one INSERT (the jobs, the consistency checks)."""
    entries = []
    for target in targets:
        entry = JournalEntry(action=action, actor=actor, details=details or {})
        _aim(entry, target)
        entries.append(entry)
    return JournalEntry.objects.bulk_create(entries)


def _aim(entry: JournalEntry, target: models.Model | None) -> None:
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        # Accounts are named by number only: the journal never changes, a person's name must be erasable (A15).
        entry.target_label = str(getattr(target, "audit_label", None) or target)[:200]
