"""Retention (P6) of the requests: attachments deleted some months after closure, then the insured's identity
and every free text erased some years after it; the request stays as a statistic (kind, caisse, partner,
dates, states). Closure is the moment a request reached a final state (`state_changed_at`: a final state never
changes again). Batched, locked, journaled by counts like every job (see `core.retention`)."""

from datetime import datetime

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone

from core import retention

from .models import CLOSED_STATES, ChangedField, Demande, DemandeChange, Message, PieceJointe


def _delete_files(pieces, now: datetime) -> None:
    """The stored files first (a run that dies before its commit leaves rows a next run deletes again, never
    a file no row points to), then the rows keep only when, the type and the size."""
    for piece in pieces:
        if piece.file.name:
            piece.file.storage.delete(piece.file.name)
    PieceJointe.objects.filter(pk__in=[piece.pk for piece in pieces]).update(
        file="", original_name="", sha256="", deleted_at=now
    )


def delete_attachments_of_closed(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Attachments deleted RETENTION_ATTACHMENTS_MONTHS_AFTER_CLOSURE after their request was closed."""
    now = now or timezone.now()
    keep = retention.period(months=settings.RETENTION_ATTACHMENTS_MONTHS_AFTER_CLOSURE)
    due = PieceJointe.objects.filter(
        retention.over("demande__state_changed_at", keep, now),
        deleted_at__isnull=True,
        demande__isnull=False,
        demande__state__in=CLOSED_STATES,
    )
    return retention.in_batches(
        due, lambda batch: _delete_files(batch, now), what="pièces jointes", dry_run=dry_run, fields=("file",)
    )


def erase_closed_requests(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """The insured's identity and the free texts (request, messages, notes, appointment place) erased
    RETENTION_REQUEST_IDENTITY_YEARS_AFTER_CLOSURE after closure, with any attachment still stored."""
    now = now or timezone.now()
    keep = retention.period(years=settings.RETENTION_REQUEST_IDENTITY_YEARS_AFTER_CLOSURE)
    due = Demande.objects.filter(
        retention.over("state_changed_at", keep, now), state__in=CLOSED_STATES, erased_at__isnull=True
    )

    def erase(batch):
        ids = [demande.pk for demande in batch]
        _delete_files(list(PieceJointe.objects.filter(demande_id__in=ids, deleted_at__isnull=True).only("file")), now)
        Message.objects.filter(demande_id__in=ids).update(body="")
        DemandeChange.objects.filter(demande_id__in=ids, field=ChangedField.APPOINTMENT_PLACE).update(
            old_value="", new_value=""
        )
        Demande.objects.filter(pk__in=ids).update(
            assure_civilite="",
            assure_last_name="",
            assure_first_name="",
            assure_birth_date=None,
            assure_departement="",
            search_text=Lower("reference"),  # what search_text_for gives without the names
            dossier_other="",
            reason="",
            appointment_place="",
            document_other="",
            erased_at=now,
        )

    return retention.in_batches(due, erase, what="demandes (identité et textes)", dry_run=dry_run)
