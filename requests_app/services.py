"""Every write on requests goes through here (D2–D9): filing, attachments, thread, states, notifications."""

import logging
import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import emails
from conventions import access
from core import audit, guard, uploads
from core.models import Action, JournalEntry
from core.text import fold

from .models import (
    TRANSITIONS,
    ChangedField,
    Delivery,
    Demande,
    DemandeChange,
    DemandeKind,
    DemandeLecture,
    DemandeState,
    Direction,
    Message,
    PieceJointe,
    Side,
)

logger = logging.getLogger(__name__)

# Free-text fields of a request, checked by the D4 guard.
FREE_TEXT_FIELDS = ("dossier_other", "reason", "document_other")


def can_file(user, caisse, kind: DemandeKind) -> bool:
    """D2: a technicien, for a caisse its structure has access to (C7), with that service on (C5)."""
    return bool(user.is_technicien and user.is_active and access.service_enabled(user.partenaire, caisse, kind))


def check_can_file(user, caisse, kind: DemandeKind) -> None:
    if not can_file(user, caisse, kind):
        raise PermissionDenied("Ce service n'est pas ouvert à votre structure pour cette caisse.")


# --- Attachments staged on a form (D5: what was accepted stays accepted while the form is corrected) ---


def staged_pieces(user, token):
    return PieceJointe.objects.filter(staged_token=token, uploaded_by=user, demande__isnull=True)


def stage_files(user, token: uuid.UUID, files, *, direction=Direction.ENTRANTE) -> tuple[list[PieceJointe], list]:
    """Check each file (type, antivirus, readability) and keep the accepted ones for this form.

    Returns the accepted pieces and the refusals (ValidationError each): one bad file does not lose the others.
    """
    accepted, refused = [], []
    for upload in files:
        try:
            uploads.check_count(staged_pieces(user, token).count(), 1, name=getattr(upload, "name", ""))
            checked = uploads.check_upload(upload)
        except ValidationError as exc:
            refused.append(exc)
            continue
        if staged_pieces(user, token).filter(sha256=checked.sha256).exists():
            continue  # the same file sent again (a reload of the page): already kept for this form
        try:
            name = uploads.store(checked)
        except ValidationError as exc:  # the file store is down: this file is refused, the form kept
            refused.append(exc)
            continue
        accepted.append(
            PieceJointe.objects.create(
                staged_token=token,
                uploaded_by=user,
                direction=direction,
                file=name,
                original_name=checked.original_name,
                mime=checked.mime,
                size=checked.size,
                sha256=checked.sha256,
            )
        )
    return accepted, refused


def filed_with_token(user, token):
    """The request a form token already filed (a second click or a reload after success), if any."""
    return Demande.objects.filter(form_token=token, filed_by=user).first() if token else None


def unstage(user, token, piece_ids) -> None:
    for piece in staged_pieces(user, token).filter(pk__in=piece_ids):
        piece.file.delete(save=False)
        piece.delete()


def _claim(user, token, demande: Demande, message: Message) -> int:
    return staged_pieces(user, token).update(demande=demande, message=message, staged_token=None)


# --- Filing ----------------------------------------------------------------------------------------


def search_text_for(demande: Demande) -> str:
    return fold(f"{demande.reference} {demande.assure_last_name} {demande.assure_first_name}")[:400]


@transaction.atomic
def submit_demande(*, user, caisse, kind: DemandeKind, fields: dict, message: str, form_token):
    """File a request (D1–D6). The same form token twice gives back the request already filed."""
    existing = filed_with_token(user, form_token)
    if existing is not None:
        return existing
    check_can_file(user, caisse, kind)
    partenaire = user.partenaire
    if fields.get("delivery") == Delivery.PARTENAIRE and not partenaire.can_receive_documents:
        raise ValidationError(
            {
                "delivery": "Votre structure n'est pas habilitée à recevoir les documents : ils seront envoyés à "
                "l'adresse connue de l'assuré."
            }
        )
    guard.check_fields(message=message, **{name: fields.get(name, "") for name in FREE_TEXT_FIELDS})
    now = timezone.now()
    demande = Demande(
        kind=kind,
        partenaire=partenaire,
        caisse=caisse,
        filed_by=user,
        created_at=now,
        state_changed_at=now,
        partner_changed_at=now,
        form_token=form_token,
        **fields,
    )
    demande.search_text = search_text_for(demande)
    demande.full_clean(exclude=["form_token"])
    try:
        with transaction.atomic():
            demande.save()
    except IntegrityError:  # the same form posted twice at once: the other request won
        return Demande.objects.get(form_token=form_token)
    first = Message.objects.create(demande=demande, author=user, side=Side.PARTENAIRE, body=message, created_at=now)
    _claim(user, form_token, demande, first)
    DemandeChange.objects.create(demande=demande, new_value=DemandeState.ENVOYEE, by=user, at=now)
    return demande


# --- Thread and states -------------------------------------------------------------------------------


def can_reply(user, demande: Demande) -> bool:
    """D9: no new message to a caisse the structure no longer has access to, nor on a closed request."""
    if demande.is_final:
        return False
    if user.is_partner:
        return (
            user.is_technicien
            and user.partenaire_id == demande.partenaire_id
            and access.has_access(demande.partenaire, demande.caisse)
        )
    return Demande.objects.visible_to(user).filter(pk=demande.pk).exists()


@transaction.atomic
def add_message(demande: Demande, *, author, body: str, form_token=None, internal: bool = False):
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    if not can_reply(author, demande):
        raise PermissionDenied("Vous ne pouvez plus écrire sur cette demande.")
    side = Side.PARTENAIRE if author.is_partner else Side.CAISSE
    if internal and side != Side.CAISSE:
        raise PermissionDenied("Seule la caisse écrit des notes internes.")
    if not (body or "").strip():
        raise ValidationError({"body": "Écrivez votre message."})
    guard.check_fields(body=body)
    pieces = staged_pieces(author, form_token) if form_token else PieceJointe.objects.none()
    if side == Side.CAISSE and pieces.exists() and not demande.partenaire.can_receive_documents:
        raise ValidationError(
            "Cette structure n'est pas habilitée à recevoir des documents : aucune pièce jointe sortante (D6)."
        )
    message = Message.objects.create(demande=demande, author=author, side=side, body=body.strip(), internal=internal)
    if form_token:
        _claim(author, form_token, demande, message)
    if side == Side.PARTENAIRE and demande.state == DemandeState.EN_ATTENTE:
        _move(demande, DemandeState.EN_COURS, by=author)
    if not internal:
        _changed(demande, side, message.created_at)
    if side == Side.CAISSE and not internal:
        notify_partner(demande, "answer")
    return message


def _move(demande: Demande, to_state: DemandeState, *, by) -> None:
    """D7: the one place a state changes, checked against the table, recorded with who and when."""
    if to_state not in TRANSITIONS[DemandeState(demande.state)]:
        raise ValidationError(
            {
                "new_state": f"Une demande « {demande.get_state_display()} » ne peut pas passer à "
                f"« {DemandeState(to_state).label} »."
            }
        )
    now = timezone.now()
    _record(demande, ChangedField.STATE, demande.state, to_state, by=by, at=now)
    demande.state = to_state
    demande.state_changed_at = now
    demande.save(update_fields=["state", "state_changed_at"])
    if not by.is_partner:  # the partner's own reply moving it back to "en cours" is no news to the partner
        _changed(demande, Side.CAISSE, now)


def _changed(demande: Demande, side: Side, at) -> None:
    """The last change of one side, which makes the request "non lue" for the other side (work queues)."""
    field = "caisse_changed_at" if side == Side.CAISSE else "partner_changed_at"
    setattr(demande, field, at)
    demande.save(update_fields=[field])


def _value(value) -> str:
    """A field's value as the history stores it: a code, a key, an ISO date-time."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(getattr(value, "pk", value))


def _record(demande: Demande, field: ChangedField, old, new, *, by, at=None) -> None:
    DemandeChange.objects.create(
        demande=demande, field=field, old_value=_value(old), new_value=_value(new), by=by, at=at or timezone.now()
    )


@transaction.atomic
def change_state(demande: Demande, to_state: DemandeState, *, by) -> Demande:
    """D7: a move allowed by the table, recorded with who and when; the partner is told by email."""
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    if by.is_partner:
        raise PermissionDenied("Seule la caisse change l'état d'une demande.")
    _move(demande, to_state, by=by)
    notify_partner(demande, "state")
    return demande


def notify_partner(demande: Demande, event: str) -> None:
    """An email with the reference and a link only: never the insured's data (D7)."""
    recipients = [demande.filed_by.email if demande.filed_by.is_active else "", demande.partenaire.notification_email]
    emails.send(
        "demande_update",
        sorted({address for address in recipients if address}),
        {
            "reference": demande.reference,
            "event": event,
            "state": demande.get_state_display(),
            "link": emails.absolute_url(reverse("demande_detail", args=[demande.reference])),
        },
    )


# --- Reading (P4) -----------------------------------------------------------------------------------


def partner_may_see(piece: PieceJointe) -> bool:
    """D6: documents from the caisse reach only partners habilités; internal notes never leave the caisse."""
    if piece.message_id and piece.message.internal:
        return False
    return piece.direction == Direction.ENTRANTE or piece.demande.partenaire.can_receive_documents


def record_read(demande: Demande, user) -> None:
    """P4: every opening of a request is journaled; it also marks the request read for that user only (work
    queues), in one statement whatever the races between two tabs."""
    audit.record(Action.DEMANDE_READ, actor=user, target=demande)
    DemandeLecture.objects.bulk_create(
        [DemandeLecture(user=user, demande=demande, read_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "demande"],
        update_fields=["read_at"],
    )


def record_download(piece: PieceJointe, user) -> None:
    audit.record(Action.PIECE_JOINTE_READ, actor=user, target=piece.demande, details={"piece_jointe": piece.pk})


@transaction.atomic
def answer(
    demande: Demande,
    *,
    agent,
    body: str,
    internal: bool = False,
    new_state: DemandeState | None = None,
    files=(),
    appointment_at=None,
    appointment_place: str = "",
) -> Message:
    """The caisse answers (D7): a message (or an internal note), outgoing documents only to a partner
    habilité (D6), a state change from the table, the rendez-vous fixed; the partner is told once."""
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    if not Demande.objects.visible_to(agent).filter(pk=demande.pk).exists() or agent.is_partner:
        raise PermissionDenied("Cette demande n'est pas traitée par votre caisse.")
    if files and internal:
        raise ValidationError({"files": "Une note interne ne porte pas de document pour le partenaire."})
    if files and not demande.partenaire.can_receive_documents:
        raise ValidationError(
            {
                "files": "Cette structure n'est pas habilitée à recevoir des documents (convention, art. 1.2 et 5) : "
                "le document est envoyé à l'adresse connue de l'assuré."
            }
        )
    guard.check_fields(body=body, appointment_place=appointment_place)
    if appointment_at or appointment_place:
        if demande.kind != DemandeKind.RENDEZ_VOUS:
            raise ValidationError({"appointment_at": "Seule une demande de rendez-vous reçoit un rendez-vous."})
        if not (appointment_at and appointment_place.strip()):
            raise ValidationError({"appointment_place": "Indiquez la date, l'heure et le lieu du rendez-vous."})
    if new_state:  # first, before any file is stored: a refused move leaves nothing behind
        _move(demande, new_state, by=agent)
    token = uuid.uuid4()
    if files:
        _, refused = stage_files(agent, token, files, direction=Direction.SORTANTE)
        if refused:
            raise ValidationError({"files": [message for error in refused for message in error.messages]})
    message = Message.objects.create(
        demande=demande, author=agent, side=Side.CAISSE, body=body.strip(), internal=internal
    )
    _claim(agent, token, demande, message)
    if appointment_at:
        _set_appointment(demande, appointment_at, appointment_place.strip(), by=agent)
    if not internal or appointment_at:
        _changed(demande, Side.CAISSE, timezone.now())
    if not internal:
        notify_partner(demande, "answer")
    elif new_state:
        notify_partner(demande, "state")
    return message


def _set_appointment(demande: Demande, at, place: str, *, by) -> None:
    """D1 (rendez-vous): the caisse fixes or changes the date and place; each change is kept."""
    for field, new in ((ChangedField.APPOINTMENT_AT, at), (ChangedField.APPOINTMENT_PLACE, place)):
        old = getattr(demande, field)
        if old != new:
            _record(demande, field, old, new, by=by)
            setattr(demande, field, new)
    demande.save(update_fields=["appointment_at", "appointment_place"])


@transaction.atomic
def assign(demandes, agent, *, by) -> int:
    """Assign requests to an agent of their caisse, each change kept with who made it; returns how many
    changed. Three queries whatever the number of requests."""
    visible = Demande.objects.visible_to(agent).filter(pk__in=[d.pk for d in demandes]).exclude(assigned_to=agent)
    rows = list(visible.select_for_update().values_list("pk", "assigned_to_id"))
    now = timezone.now()
    DemandeChange.objects.bulk_create(
        DemandeChange(
            demande_id=pk, field=ChangedField.ASSIGNED_TO, old_value=_value(old), new_value=str(agent.pk), by=by, at=now
        )
        for pk, old in rows
    )
    return Demande.objects.filter(pk__in=[pk for pk, _ in rows]).update(assigned_to=agent)


def purge_staged_pieces(*, now=None, dry_run: bool = False) -> int:
    """Files accepted on a form that was never sent (abandoned after a refusal): removed after a day."""
    now = now or timezone.now()
    abandoned = PieceJointe.objects.filter(demande__isnull=True, uploaded_at__lt=now - timedelta(days=1))
    if dry_run:
        return abandoned.count()
    removed = 0
    for piece in abandoned.iterator():
        piece.file.delete(save=False)
        piece.delete()
        removed += 1
    return removed


def accesses_to_insured(user, *, last_name: str, birth_date, first_name: str = ""):
    """CNIL right of access: every journaled read of the requests about one insured person that the
    staff member may see (name folded like the history's search, plus the birth date)."""
    demandes = Demande.objects.visible_to(user).filter(
        assure_birth_date=birth_date, search_text__contains=fold(last_name)
    )
    if first_name.strip():
        demandes = demandes.filter(search_text__contains=fold(first_name))
    ids = [str(pk) for pk in demandes.values_list("pk", flat=True)]
    return (
        JournalEntry.objects.filter(target_type=Demande._meta.label_lower, target_id__in=ids)
        .select_related("actor", "actor__partenaire", "actor__caisse")
        .order_by("at")
    )
