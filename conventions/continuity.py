"""P8 (convention art. 3.2): the other channel each caisse guarantees per activated service, and the copy of
every caisse's channels on disk that the page served when the database is down reads (core.reliability)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from core.reliability import write_snapshot

from .models import Caisse, CanalSecours, Service

SERVICE_ORDER = {service.value: index for index, service in enumerate(Service)}


def _channel(row: CanalSecours) -> dict:
    return {
        "service": row.get_service_display(),
        "phone": row.phone,
        "email": row.email,
        "postal_address": row.postal_address,
        "opening_hours": row.opening_hours,
    }


def channels_for(caisses) -> list[dict]:
    """The fallback channels of these caisses, as every page shows them (the snapshot has the same shape):
    [{"caisse": name, "channels": [{"service", "phone", "email", "postal_address", "opening_hours"}]}].
    One query; caisses without any channel are left out."""
    rows = (
        CanalSecours.objects.filter(caisse__in=caisses).select_related("caisse").order_by("caisse__name", "caisse_id")
    )
    grouped: dict[int, dict] = {}
    for row in rows:
        grouped.setdefault(row.caisse_id, {"caisse": row.caisse.name, "channels": []})["channels"].append(row)
    for group in grouped.values():
        group["channels"] = [_channel(row) for row in sorted(group["channels"], key=lambda r: SERVICE_ORDER[r.service])]
    return list(grouped.values())


def write_fallback_snapshot(*, dry_run: bool = False) -> int:
    """Copy every caisse's channels to the file the database-down page reads; returns the caisses copied.
    Written when a caisse edits its channels, at start-up and by the job (idempotent)."""
    data = channels_for(Caisse.objects.all())
    if not dry_run:
        write_snapshot({"written_at": timezone.now().isoformat(), "caisses": data})
    return len(data)


@receiver(post_save, sender=CanalSecours)
@receiver(post_delete, sender=CanalSecours)
@receiver(post_save, sender=Caisse)
def _channels_changed(sender, **kwargs):
    # Once the change is committed: the copy never shows a channel that was rolled back.
    transaction.on_commit(write_fallback_snapshot)
