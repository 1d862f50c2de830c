"""What partners ask the caisse about accounts and what the caisse does with it (A5, A10, A11, A13, A16)."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conventions import access
from conventions.models import Partenaire
from core import audit, guard
from core.models import Action
from core.working_days import add_working_days

from . import emails, invitations, services
from .models import (
    OCCUPYING_STATES,
    AccountIncident,
    AccountState,
    GestionnaireRequest,
    GestionnaireRequestKind,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    IncidentSource,
    Profile,
    RequestStatus,
    User,
)
from .validators import validate_professional_email

# --- A5: habilitation of gestionnaires by the caisse -------------------------------------------------


def habilitation_due_on(received_on: date, partenaire: Partenaire) -> date:
    return add_working_days(received_on, settings.HABILITATION_DELAY_WORKING_DAYS, partenaire.postal_code[:2])


@transaction.atomic
def record_habilitation_request(request_obj: HabilitationRequest, *, actor=None) -> HabilitationRequest:
    """Recorded by the agent (from the partner's letter) or by a gestionnaire from the portal."""
    request_obj.received_on = request_obj.received_on or timezone.localdate()
    request_obj.due_on = habilitation_due_on(request_obj.received_on, request_obj.partenaire)
    request_obj.email = (request_obj.email or "").strip().lower()
    request_obj.full_clean()
    try:
        validate_professional_email(request_obj.email, request_obj.partenaire)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if actor is not None and actor.is_partner:
        request_obj.requested_by = actor
    request_obj.save()
    audit.record(Action.HABILITATION_REQUESTED, actor=actor, target=request_obj.partenaire)
    return request_obj


@transaction.atomic
def accept_habilitation_request(request_obj: HabilitationRequest, *, actor) -> User:
    """The agent creates the gestionnaire account from the request, within quota (A2, A5)."""
    request_obj = HabilitationRequest.objects.select_for_update().get(pk=request_obj.pk)
    if request_obj.status != RequestStatus.PENDING:
        raise ValidationError("Cette demande a déjà été traitée.")
    signed = access.conventions_granting_access(request_obj.partenaire)
    if actor.caisse_id:
        signed = signed.filter(convention_metier__caisse_id=actor.caisse_id)
    if not signed.exists():
        raise ValidationError(
            "Les gestionnaires sont habilités après la signature de la convention d'utilisation : cette structure "
            "n'en a pas en vigueur avec votre caisse, ou son accès est suspendu."
        )
    identity = {name: getattr(request_obj, name) for name in services.IDENTITY_FIELDS}
    user = services.create_partner_account(request_obj.partenaire, Profile.GESTIONNAIRE, identity, actor=actor)
    request_obj.status = RequestStatus.DONE
    request_obj.processed_at = timezone.now()
    request_obj.processed_by = actor
    request_obj.account = user
    request_obj.save()
    audit.record(Action.HABILITATION_PROCESSED, actor=actor, target=user)
    return user


@transaction.atomic
def refuse_request(request_obj, *, reason: str, actor):
    """Refuse a pending habilitation or gestionnaire request, with a reason the partner can read."""
    request_obj = type(request_obj).objects.select_for_update().get(pk=request_obj.pk)
    if request_obj.status not in (RequestStatus.PENDING, RequestStatus.SCHEDULED):
        raise ValidationError("Cette demande a déjà été traitée.")
    if not reason.strip():
        raise ValidationError({"reason": "Indiquez le motif du refus."})
    guard.check_fields(reason=reason)
    request_obj.status = RequestStatus.REFUSED
    request_obj.refusal_reason = reason.strip()[:300]
    request_obj.processed_at = timezone.now()
    request_obj.processed_by = actor
    request_obj.save()
    action = (
        Action.HABILITATION_PROCESSED
        if isinstance(request_obj, HabilitationRequest)
        else Action.GESTIONNAIRE_REQUEST_PROCESSED
    )
    audit.record(action, actor=actor, target=request_obj.partenaire, details={"refus": True})
    return request_obj


# --- A10, A11: the partner asks, only the caisse changes a gestionnaire -----------------------------


def _check_partner_gestionnaire(requested_by: User, target: User) -> None:
    if not (
        requested_by.is_gestionnaire
        and requested_by.is_active
        and target.is_gestionnaire
        and target.partenaire_id == requested_by.partenaire_id
        and target.state == AccountState.ACTIF
    ):
        raise PermissionDenied("Vous ne pouvez faire de demande que pour un gestionnaire actif de votre structure.")


@transaction.atomic
def request_gestionnaire_modification(target: User, changes: dict, *, requested_by: User):
    _check_partner_gestionnaire(requested_by, target)
    changes = {k: (v or "").strip() for k, v in changes.items() if k in ("last_name", "job_title", "phone", "email")}
    changes = {k: v for k, v in changes.items() if v and v != getattr(target, k)}
    if not changes:
        raise ValidationError("Indiquez au moins une information à modifier.")
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        try:
            validate_professional_email(changes["email"], target.partenaire)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    demand = GestionnaireRequest(
        partenaire=target.partenaire,
        kind=GestionnaireRequestKind.MODIFICATION,
        target=target,
        requested_by=requested_by,
        **{f"new_{k}": v for k, v in changes.items()},
    )
    demand.full_clean()
    demand.save()
    audit.record(
        Action.GESTIONNAIRE_REQUESTED,
        actor=requested_by,
        target=target,
        details={"objet": "modification", "champs": sorted(changes)},
    )
    return demand


def earliest_inactivation_date(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=GestionnaireRequest.MIN_NOTICE_DAYS)


@transaction.atomic
def request_gestionnaire_inactivation(target: User, wanted_on: date, *, requested_by: User):
    """A11: at least 15 days ahead, never the last active gestionnaire."""
    _check_partner_gestionnaire(requested_by, target)
    Partenaire.objects.select_for_update().get(pk=target.partenaire_id)
    earliest = earliest_inactivation_date()
    if wanted_on < earliest:
        raise ValidationError(
            {
                "wanted_on": f"La caisse doit être prévenue au moins 15 jours à l'avance : choisissez une date à "
                f"partir du {earliest:%d/%m/%Y}."
            }
        )
    pending = GestionnaireRequest.objects.filter(
        partenaire=target.partenaire,
        kind=GestionnaireRequestKind.INACTIVATION,
        status__in=(RequestStatus.PENDING, RequestStatus.SCHEDULED),
    )
    remaining = (
        services.active_gestionnaires(target.partenaire).exclude(pk=target.pk).exclude(pk__in=pending.values("target"))
    )
    if not remaining.exists():
        raise ValidationError(
            "Ce gestionnaire est le dernier gestionnaire actif de la structure (en comptant les inactivations "
            "déjà demandées) : demandez d'abord à la caisse l'habilitation d'un nouveau gestionnaire."
        )
    if pending.filter(target=target).exists():
        raise ValidationError("Une demande d'inactivation de ce gestionnaire est déjà en cours.")
    demand = GestionnaireRequest(
        partenaire=target.partenaire,
        kind=GestionnaireRequestKind.INACTIVATION,
        target=target,
        requested_by=requested_by,
        wanted_on=wanted_on,
    )
    demand.save()
    audit.record(
        Action.GESTIONNAIRE_REQUESTED,
        actor=requested_by,
        target=target,
        details={"objet": "inactivation", "date": wanted_on.isoformat()},
    )
    return demand


@transaction.atomic
def apply_gestionnaire_request(demand: GestionnaireRequest, *, actor, immediately: bool = False):
    """The agent applies it. An inactivation happens now if asked or due, otherwise at the wanted date."""
    demand = GestionnaireRequest.objects.select_for_update().get(pk=demand.pk)
    if demand.status != RequestStatus.PENDING:
        raise ValidationError("Cette demande a déjà été traitée.")
    target = demand.target
    if target.state not in OCCUPYING_STATES:
        raise ValidationError("Ce compte n'est plus actif : refusez la demande.")
    if demand.kind == GestionnaireRequestKind.MODIFICATION:
        if "email" in demand.changes:
            validate_professional_email(demand.changes["email"], target.partenaire)
        old_email = target.email
        for name, value in demand.changes.items():
            setattr(target, name, value)
        target.full_clean(exclude=["password"])
        target.save(update_fields=list(demand.changes))
        if "email" in demand.changes:
            invitations.notify_email_changed(target, old_email)
        audit.record(
            Action.ACCOUNT_CHANGED,
            actor=actor,
            target=target,
            details={"champs": sorted(demand.changes)},
        )
        demand.status = RequestStatus.DONE
    elif immediately or demand.wanted_on <= timezone.localdate():
        services.inactivate_account(target, reason=InactivationReason.PARTNER_REQUEST, actor=actor)
        demand.status = RequestStatus.DONE
    else:
        demand.status = RequestStatus.SCHEDULED
    demand.processed_at = timezone.now()
    demand.processed_by = actor
    demand.save()
    audit.record(
        Action.GESTIONNAIRE_REQUEST_PROCESSED,
        actor=actor,
        target=target,
        details={"etat": demand.status},
    )
    return demand


def run_scheduled_inactivations(*, actor=None, dry_run: bool = False) -> int:
    """A11: scheduled gestionnaire inactivations whose date has come (called by the nightly job), batch by
    batch, each in one transaction and a constant number of queries. A request whose gestionnaire has become
    the last active one of its structure is refused with the reason, shown to the agent, and not retried."""
    due = GestionnaireRequest.objects.filter(
        status=RequestStatus.SCHEDULED, kind=GestionnaireRequestKind.INACTIVATION, wanted_on__lte=timezone.localdate()
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True))  # each request once per run, even if skipped
    size, done = settings.JOBS_BATCH_SIZE, 0
    for start in range(0, len(ids), size):
        with transaction.atomic():
            batch = list(
                due.filter(pk__in=ids[start : start + size])
                .select_related("target")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
            )
            done += _apply_scheduled_inactivations(batch, actor)
    return done


def _apply_scheduled_inactivations(batch: list[GestionnaireRequest], actor) -> int:
    to_inactivate = [demand.target for demand in batch if demand.target.state == AccountState.ACTIF]
    last = services.last_gestionnaires(to_inactivate)
    inactivated = {
        user.pk
        for user in services.inactivate_accounts(
            User.objects.filter(pk__in=[user.pk for user in to_inactivate if user.pk not in last]),
            reason=InactivationReason.PARTNER_REQUEST,
            actor=actor,
        )
    }
    refused = [demand.pk for demand in batch if demand.target_id in last]
    # An account already inactivated by other means needs nothing more; one another transaction holds
    # (skipped above) stays scheduled for the next run.
    finished = [
        demand.pk for demand in batch if demand.target_id in inactivated or demand.target.state != AccountState.ACTIF
    ]
    GestionnaireRequest.objects.filter(pk__in=refused).update(
        status=RequestStatus.REFUSED, refusal_reason=services.LAST_GESTIONNAIRE_MESSAGE
    )
    GestionnaireRequest.objects.filter(pk__in=finished).update(status=RequestStatus.DONE)
    return len(finished)


# --- A13: fraud, loss, theft --------------------------------------------------------------------------


def _new_incident(account: User, kind, source: IncidentSource, description: str, reported_by: User):
    if not description.strip():
        raise ValidationError({"description": "Décrivez en quelques mots ce qui s'est passé ou a été constaté."})
    guard.check_fields(description=description)
    return AccountIncident.objects.create(
        partenaire=account.partenaire,
        account=account,
        kind=kind,
        source=source,
        description=description.strip(),
        reported_by=reported_by,
    )


@transaction.atomic
def report_incident(account: User, *, kind, description: str, reported_by: User) -> AccountIncident:
    """From the portal: any user of the partner reports one of its accounts (its own included)."""
    if not (reported_by.is_partner and account.partenaire_id == reported_by.partenaire_id):
        raise PermissionDenied("Vous ne pouvez signaler que les comptes de votre structure.")
    incident = _new_incident(account, kind, IncidentSource.PARTNER, description, reported_by)
    audit.record(Action.INCIDENT_REPORTED, actor=reported_by, target=account, details={"nature": kind})
    return incident


@transaction.atomic
def process_incident(incident: AccountIncident, *, actor) -> AccountIncident:
    """The caisse inactivates the reported account at once (A13)."""
    incident = AccountIncident.objects.select_for_update().get(pk=incident.pk)
    if incident.processed_at:
        raise ValidationError("Ce signalement a déjà été traité.")
    if incident.account.state in OCCUPYING_STATES:
        services.inactivate_account(incident.account, reason=InactivationReason.FRAUD, actor=actor)
    incident.processed_at = timezone.now()
    incident.processed_by = actor
    incident.save(update_fields=["processed_at", "processed_by"])
    audit.record(Action.INCIDENT_PROCESSED, actor=actor, target=incident.account)
    return incident


@transaction.atomic
def caisse_detects_incident(account: User, *, kind, description: str, actor) -> AccountIncident:
    """The caisse inactivates at once, then informs the partner's gestionnaires; the notice is kept as proof."""
    incident = _new_incident(account, kind, IncidentSource.CAISSE, description, actor)
    process_incident(incident, actor=actor)
    recipients = sorted(
        set(services.active_gestionnaires(account.partenaire).exclude(pk=account.pk).values_list("email", flat=True))
        | ({account.partenaire.notification_email} - {""})
    )
    if not recipients:
        # Nobody to tell by email: the incident stays "non notifié" in the back-office, to inform by other means.
        return incident
    now = timezone.now()
    text = emails.send(
        "incident_notice",
        recipients,
        {
            "account": account,
            "partenaire": account.partenaire,
            "kind_label": incident.get_kind_display(),
            "caisse_name": actor.caisse.name if actor.caisse_id else "Assurance Maladie",
            "when": now,
            "link": emails.absolute_url(reverse("contacts")),
        },
    )
    incident.notified_at = now
    incident.notified_to = "\n".join(recipients)
    incident.notification_text = text
    incident.save(update_fields=["notified_at", "notified_to", "notification_text"])
    return incident


# --- A16: habilitation reviews -----------------------------------------------------------------------


@transaction.atomic
def check_review_due_on(due_on: date) -> None:
    if due_on < timezone.localdate():
        raise ValidationError("La date limite ne peut pas être passée.")


def request_review(review: HabilitationReview, *, actor) -> HabilitationReview:
    try:
        check_review_due_on(review.due_on)
    except ValidationError as exc:
        raise ValidationError({"due_on": exc.messages}) from exc
    review.requested_by = actor
    review.save()
    audit.record(Action.REVIEW_REQUESTED, actor=actor, target=review.partenaire)
    return review


@transaction.atomic
def attest_review(review: HabilitationReview, *, gestionnaire: User) -> HabilitationReview:
    review = HabilitationReview.objects.select_for_update().get(pk=review.pk)
    if not (gestionnaire.is_gestionnaire and gestionnaire.partenaire_id == review.partenaire_id):
        raise PermissionDenied("Seul un gestionnaire de la structure atteste la revue de ses habilitations.")
    if review.attested_at:
        raise ValidationError("Cette revue a déjà été attestée.")
    review.attested_at = timezone.now()
    review.attested_by = gestionnaire
    review.save(update_fields=["attested_at", "attested_by"])
    audit.record(Action.REVIEW_ATTESTED, actor=gestionnaire, target=review.partenaire)
    return review
