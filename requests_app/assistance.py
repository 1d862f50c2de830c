"""Every write on assistance goes through here (P7, convention art. 3.3 and 7): a problem reported to a caisse,
its thread and states, the escalation to national support and its answer, and the caisse's information to its
partners. Each step is journaled and emailed with the reference and a link only, never the content."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import emails
from accounts.models import AccountState, User
from conventions import access
from conventions.models import Caisse, Referent
from core import audit, guard, uploads
from core.models import Action

from .models import (
    TICKET_TRANSITIONS,
    InformationAcknowledgement,
    InformationPartenaire,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketSide,
    TicketState,
)

SCREENSHOT_FOLDER = "assistance"
PAGE_MAX = 300
USER_AGENT_MAX = 300


# --- Who -------------------------------------------------------------------------------------------------------


def can_report(user) -> bool:
    """A partner user (technicien or gestionnaire) of a structure with access to at least one caisse."""
    return bool(user.is_authenticated and user.is_partner and user.is_active)


def caisses_for_report(user):
    return access.caisses_accessible(user.partenaire) if can_report(user) else Caisse.objects.none()


def _is_caisse_staff(user, ticket: Ticket) -> bool:
    return not user.is_partner and Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()


def referent_emails(caisse_id: int) -> list[str]:
    """The caisse's référents Espace Partenaires with an active agent account (C1)."""
    return sorted(
        set(
            Referent.objects.filter(
                caisse_id=caisse_id, agent__state=AccountState.ACTIF, agent__caisse_id=caisse_id
            ).values_list("agent__email", flat=True)
        )
        - {""}
    )


def national_emails() -> list[str]:
    return sorted(
        set(User.objects.filter(is_superuser=True, state=AccountState.ACTIF).values_list("email", flat=True)) - {""}
    )


# --- Notifications ---------------------------------------------------------------------------------------------


def _notify(ticket: Ticket, recipients: list[str], event: str, link: str) -> None:
    emails.send(
        "ticket_update",
        recipients,
        {"reference": ticket.reference, "event": event, "link": emails.absolute_url(link)},
    )


def _staff_link(ticket: Ticket) -> str:
    return reverse("admin:requests_app_ticket_change", args=[ticket.pk])


def _partner_link(ticket: Ticket) -> str:
    return reverse("ticket_detail", args=[ticket.reference])


def notify_partner(ticket: Ticket, event: str) -> None:
    reporter = ticket.reported_by
    recipients = [reporter.email if reporter.is_active else "", ticket.partenaire.notification_email]
    _notify(ticket, sorted({a for a in recipients if a}), event, _partner_link(ticket))


def notify_referents(ticket: Ticket, event: str) -> None:
    _notify(ticket, referent_emails(ticket.caisse_id), event, _staff_link(ticket))


# --- Screenshots -------------------------------------------------------------------------------------------------


def check_files(files) -> list[uploads.CheckedFile]:
    """Every file checked (count, type from content, antivirus, size, readability) before any is stored: one
    refusal and nothing is kept."""
    files = list(files or [])
    uploads.check_count(0, len(files))
    checked, errors = [], []
    for upload in files:
        try:
            checked.append(uploads.check_upload(upload))
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ValidationError({"files": errors})
    return checked


def _attach(ticket: Ticket, message: TicketMessage, checked: list[uploads.CheckedFile], user, stored: list[str]):
    for item in checked:
        name = uploads.store(item, folder=SCREENSHOT_FOLDER)
        stored.append(name)
        TicketAttachment.objects.create(
            ticket=ticket,
            message=message,
            uploaded_by=user,
            file=name,
            original_name=item.original_name,
            mime=item.mime,
            size=item.size,
            sha256=item.sha256,
        )


@contextmanager
def _stored_files():
    """Files written before a failure are removed again: nothing is kept half-way."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            uploads.delete_stored(name)
        raise


# --- States ------------------------------------------------------------------------------------------------------


def _move(ticket: Ticket, to_state: TicketState, *, by, note: str = "") -> None:
    """P7: the one place a state changes, checked against the table, journaled with who and when."""
    if to_state not in TICKET_TRANSITIONS[TicketState(ticket.state)]:
        raise ValidationError(
            {
                "new_state": f"Un signalement « {ticket.get_state_display()} » ne peut pas passer à "
                f"« {TicketState(to_state).label} »."
            }
        )
    old = ticket.state
    ticket.state = to_state
    ticket.state_changed_at = timezone.now()
    if to_state == TicketState.TRANSMIS:
        ticket.escalated_at = ticket.state_changed_at
    ticket.save(update_fields=["state", "state_changed_at", "escalated_at"])
    audit.record(Action.TICKET_CHANGED, actor=by, target=ticket, details={"from": old, "to": to_state})


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("partenaire", "reported_by").get(pk=ticket.pk)


# --- Reporting and the partner's side --------------------------------------------------------------------------


def report_problem(
    *, user, caisse, category: str, page: str, description: str, user_agent: str, files=(), form_token=None
) -> Ticket:
    """A partner user reports a problem to one of its caisses (P7). The same form token twice gives back the
    ticket already filed; a refused screenshot or text keeps nothing."""
    if form_token:
        existing = Ticket.objects.filter(form_token=form_token, reported_by=user).first()
        if existing is not None:
            return existing
    if not can_report(user) or not access.has_access(user.partenaire, caisse):
        raise PermissionDenied("Votre structure n'a pas accès à cette caisse.")
    guard.check_fields(description=description)
    checked = check_files(files)
    now = timezone.now()
    ticket = Ticket(
        partenaire=user.partenaire,
        caisse=caisse,
        reported_by=user,
        category=category,
        page=(page or "")[:PAGE_MAX],
        description=description.strip(),
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        created_at=now,
        state_changed_at=now,
        form_token=form_token,
    )
    ticket.full_clean(exclude=["form_token"])
    with _stored_files() as stored:
        try:
            with transaction.atomic():
                ticket.save()
                message = TicketMessage.objects.create(
                    ticket=ticket, author=user, side=TicketSide.PARTENAIRE, body=ticket.description, created_at=now
                )
                _attach(ticket, message, checked, user, stored)
                audit.record(Action.TICKET_REPORTED, actor=user, target=ticket, details={"caisse": caisse.pk})
                notify_referents(ticket, "reported")
        except IntegrityError:  # the same form posted twice at once: the other one won
            for name in stored:
                uploads.delete_stored(name)
            stored.clear()
            return Ticket.objects.get(form_token=form_token)
    return ticket


def can_partner_reply(user, ticket: Ticket) -> bool:
    return (
        not ticket.is_final
        and can_report(user)
        and user.partenaire_id == ticket.partenaire_id
        and access.has_access(ticket.partenaire, ticket.caisse)
    )


def partner_reply(ticket: Ticket, *, user, body: str, files=()) -> TicketMessage:
    """The partner adds what the referent asked for: a waiting ticket goes back to the referent."""
    if not can_partner_reply(user, ticket):
        raise PermissionDenied("Vous ne pouvez plus écrire sur ce signalement.")
    if not (body or "").strip():
        raise ValidationError({"body": "Écrivez votre message."})
    guard.check_fields(body=body)
    checked = check_files(files)
    with _stored_files() as stored, transaction.atomic():
        ticket = _locked(ticket)
        message = TicketMessage.objects.create(
            ticket=ticket, author=user, side=TicketSide.PARTENAIRE, body=body.strip()
        )
        _attach(ticket, message, checked, user, stored)
        if ticket.state == TicketState.ATTENTE_PARTENAIRE:
            _move(ticket, TicketState.PRIS_EN_CHARGE, by=user)
        else:
            audit.record(Action.TICKET_CHANGED, actor=user, target=ticket, details={"event": "message"})
        notify_referents(ticket, "message")
    return message


def partner_thread(ticket: Ticket):
    return (
        TicketMessage.objects.filter(ticket=ticket, internal=False)
        .select_related("author")
        .prefetch_related("attachments")
    )


# --- The caisse's side -----------------------------------------------------------------------------------------


def _check_staff(user, ticket: Ticket) -> None:
    if not _is_caisse_staff(user, ticket):
        raise PermissionDenied("Ce signalement n'est pas adressé à votre caisse.")


@transaction.atomic
def take_charge(ticket: Ticket, *, agent) -> Ticket:
    _check_staff(agent, ticket)
    ticket = _locked(ticket)
    _move(ticket, TicketState.PRIS_EN_CHARGE, by=agent)
    notify_partner(ticket, "state")
    return ticket


@transaction.atomic
def answer(ticket: Ticket, *, agent, body: str, new_state: str = "") -> TicketMessage:
    """The referent answers the partner (a message it reads), and may move the ticket (waiting for the partner,
    resolved…)."""
    _check_staff(agent, ticket)
    if not (body or "").strip():
        raise ValidationError({"body": "Écrivez votre réponse."})
    guard.check_fields(body=body)
    ticket = _locked(ticket)
    if ticket.is_final:
        raise ValidationError("Ce signalement est résolu : il ne reçoit plus de réponse.")
    message = TicketMessage.objects.create(ticket=ticket, author=agent, side=TicketSide.CAISSE, body=body.strip())
    if new_state and new_state != ticket.state:
        _move(ticket, TicketState(new_state), by=agent)
    else:
        audit.record(Action.TICKET_CHANGED, actor=agent, target=ticket, details={"event": "answer"})
    notify_partner(ticket, "answer")
    return message


@transaction.atomic
def escalate(ticket: Ticket, *, agent, note: str) -> Ticket:
    """The referent transmits the problem to national support with a note (kept between them)."""
    _check_staff(agent, ticket)
    if not (note or "").strip():
        raise ValidationError({"note": "Expliquez au support national ce qui est attendu."})
    guard.check_fields(note=note)
    ticket = _locked(ticket)
    _move(ticket, TicketState.TRANSMIS, by=agent)
    TicketMessage.objects.create(ticket=ticket, author=agent, side=TicketSide.CAISSE, body=note.strip(), internal=True)
    _notify(ticket, national_emails(), "escalated", _staff_link(ticket))
    notify_partner(ticket, "state")
    return ticket


@transaction.atomic
def national_answer(ticket: Ticket, *, admin, body: str) -> TicketMessage:
    """National support answers the referent: the ticket goes back to the caisse, which tells the partner."""
    if not admin.is_superuser:
        raise PermissionDenied("Seul le support national répond à un signalement transmis.")
    if not (body or "").strip():
        raise ValidationError({"body": "Écrivez la réponse du support national."})
    guard.check_fields(body=body)
    ticket = _locked(ticket)
    if ticket.state != TicketState.TRANSMIS:
        raise ValidationError("Ce signalement n'est pas transmis au support national.")
    message = TicketMessage.objects.create(
        ticket=ticket, author=admin, side=TicketSide.NATIONAL, body=body.strip(), internal=True
    )
    _move(ticket, TicketState.PRIS_EN_CHARGE, by=admin)
    notify_referents(ticket, "national_answer")
    return message


def last_national_answer(ticket: Ticket) -> str:
    message = ticket.messages.filter(side=TicketSide.NATIONAL).order_by("-created_at", "-id").first()
    return message.body if message else ""


@transaction.atomic
def resolve(ticket: Ticket, *, agent) -> Ticket:
    _check_staff(agent, ticket)
    ticket = _locked(ticket)
    _move(ticket, TicketState.RESOLU, by=agent)
    notify_partner(ticket, "state")
    return ticket


# --- The other way: the caisse informs its partners (art. 7) ---------------------------------------------------


def validate_information(information: InformationPartenaire) -> None:
    audience = information.partenaire_id and information.caisse_id
    if audience and not access.has_access(information.partenaire, information.caisse):
        raise ValidationError({"partenaire": "Cette structure n'a pas de convention en vigueur avec cette caisse."})


def publish_information(information: InformationPartenaire, *, actor) -> InformationPartenaire:
    """A caisse informs one of its partners, or all of them, of a problem; shown on their home page."""
    if actor.is_partner or not Caisse.objects.visible_to(actor).filter(pk=information.caisse_id).exists():
        raise PermissionDenied("Cette caisse n'est pas la vôtre.")
    validate_information(information)
    if information._state.adding:
        information.created_by = actor
    information.full_clean()
    with transaction.atomic():
        information.save()
        audit.record(
            Action.INFORMATION_PUBLISHED,
            actor=actor,
            target=information,
            details={"caisse": information.caisse_id, "partenaire": information.partenaire_id},
        )
    return information


def informations_to_acknowledge(user):
    """The informations of the user's caisses addressed to its structure (or to all), not yet acknowledged by
    anyone of the structure. One query."""
    if not can_report(user):
        return InformationPartenaire.objects.none()
    acknowledged = InformationAcknowledgement.objects.filter(
        information=models.OuterRef("pk"), partenaire_id=user.partenaire_id
    )
    return (
        InformationPartenaire.objects.filter(caisse__in=access.caisses_accessible(user.partenaire))
        .filter(models.Q(partenaire__isnull=True) | models.Q(partenaire_id=user.partenaire_id))
        .exclude(models.Exists(acknowledged))
        .select_related("caisse")
        .order_by("-created_at", "-id")
    )


def acknowledge(information_id: int, *, user) -> InformationAcknowledgement:
    information = informations_to_acknowledge(user).filter(pk=information_id).first()
    if information is None:
        existing = InformationAcknowledgement.objects.filter(
            information_id=information_id, partenaire_id=getattr(user, "partenaire_id", None)
        ).first()
        if existing is not None:  # already acknowledged by a colleague: nothing to do
            return existing
        raise PermissionDenied("Cette information ne vous est pas adressée.")
    with transaction.atomic():
        ack, created = InformationAcknowledgement.objects.get_or_create(
            information=information, partenaire_id=user.partenaire_id, defaults={"acknowledged_by": user}
        )
        if created:
            audit.record(Action.INFORMATION_ACKNOWLEDGED, actor=user, target=information)
    return ack
