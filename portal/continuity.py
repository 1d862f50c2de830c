"""P8 (convention art. 3.2): the portal interrupted by a maintenance window or the incident mode, and the
fallback channels each partner is shown meanwhile."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from core import audit, guard
from core.models import Action

from .models import IncidentMode, MaintenanceNotice

INCIDENT_TITLE = "Incident en cours"
INCIDENT_MESSAGE = "L'Espace Partenaires est momentanément indisponible. Nos équipes rétablissent le service."


@dataclass(frozen=True)
class Interruption:
    title: str
    message: str
    ends_at: datetime | None  # None: the incident mode, no planned end

    def retry_after(self, now) -> int:
        """Seconds until the planned end (at least 1), or the incident mode's default."""
        if self.ends_at is None:
            return settings.INCIDENT_RETRY_AFTER_SECONDS
        return max(1, math.ceil((self.ends_at - now).total_seconds()))


def current_interruption(now=None) -> Interruption | None:
    """The incident mode if on, else the interrupting window under way (from its start, included, to its end,
    excluded). One query on every request: the incident row and the partial index maintenance_interrupting."""
    now = now or timezone.now()
    windows = MaintenanceNotice.objects.filter(interrupting=True, starts_at__lte=now, ends_at__gt=now).values_list(
        "title", "message", "ends_at", models.Value(1, output_field=models.IntegerField())
    )
    incident = IncidentMode.objects.filter(active=True).values_list(
        models.Value(INCIDENT_TITLE, output_field=models.CharField()),
        "message",
        models.Value(None, output_field=models.DateTimeField()),
        models.Value(0, output_field=models.IntegerField()),
    )
    rows = list(incident.union(windows.order_by("-ends_at")[:1], all=True))
    if not rows:
        return None
    title, message, ends_at, _ = min(rows, key=lambda row: row[3])  # the incident first
    return Interruption(title=title, message=message or INCIDENT_MESSAGE, ends_at=ends_at)


def incident_mode() -> IncidentMode:
    return IncidentMode.objects.get_or_create(pk=1)[0]


@transaction.atomic
def switch_incident_mode(*, active: bool, actor, message: str = "") -> IncidentMode:
    """The national administrator switches the incident mode on or off; journaled either way."""
    if not actor.is_superuser:
        raise PermissionDenied("Seul l'administrateur national déclare un incident.")
    guard.check_fields(message=message)
    mode = IncidentMode.objects.select_for_update().get_or_create(pk=1)[0]
    mode.active = active
    mode.message = message.strip() if active else ""
    mode.changed_at = timezone.now()
    mode.changed_by = actor
    mode.full_clean()
    mode.save()
    audit.record(Action.INCIDENT_MODE_ON if active else Action.INCIDENT_MODE_OFF, actor=actor, target=mode)
    return mode
