"""Every change to an account goes through here (A1–A6, A11–A14): the pages, the admin, the tasks and
the commands call these functions. Each writes in one transaction, journals, and raises ValidationError
or PermissionDenied with a French message when a rule refuses."""

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from conventions.models import Partenaire
from portal import audit
from portal.models import Action
from requests_app import guard

from . import invitations
from .models import (
    GESTIONNAIRE_REASONS,
    OCCUPYING_STATES,
    AccountState,
    InactivationReason,
    Profile,
    User,
)
from .quotas import quotas_for
from .validators import validate_professional_email


@dataclass(frozen=True)
class QuotaUsage:
    profile: Profile
    used: int
    limit: int

    @property
    def available(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def over(self) -> bool:
        return self.used > self.limit


def quota_usage(partenaire: Partenaire, profile: Profile) -> QuotaUsage:
    quotas = quotas_for(partenaire)
    limit = quotas.gestionnaires if profile == Profile.GESTIONNAIRE else quotas.techniciens
    used = User.objects.filter(partenaire=partenaire, profile=profile, state__in=OCCUPYING_STATES).count()
    return QuotaUsage(profile, used, limit)


def _check_quota(partenaire: Partenaire, profile: Profile) -> None:
    usage = quota_usage(partenaire, profile)
    if usage.used >= usage.limit:
        noun = "gestionnaires" if profile == Profile.GESTIONNAIRE else "techniciens"
        raise ValidationError(
            f"Quota atteint : avec {partenaire.member_count} membres, {partenaire.name} peut avoir "
            f"{usage.limit} comptes {noun} invités ou actifs, et en a déjà {usage.used}. "
            "Inactivez un compte qui n'est plus utilisé, ou demandez à votre caisse de mettre à jour le nombre "
            "de membres de la structure.",
            code="quota_reached",
        )


def _username_base(first_name: str, last_name: str) -> str:
    raw = f"{first_name}.{last_name}".lower()
    ascii_only = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "-", ascii_only).strip(".-")[:140] or "compte"


def unique_username(first_name: str, last_name: str) -> str:
    base = _username_base(first_name, last_name)
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


def _save_with_free_username(user: User, attempts: int = 5) -> None:
    """Two structures creating the same name at once lock different rows: retry on the unique login."""
    for _ in range(attempts):
        try:
            with transaction.atomic():
                user.save()
            return
        except IntegrityError:
            if not User.objects.filter(username=user.username).exists():
                raise
            user.username = unique_username(user.first_name, user.last_name)
    raise ValidationError("Identifiant indisponible : réessayez.")


IDENTITY_FIELDS = ("civilite", "last_name", "first_name", "job_title", "phone", "email")


@transaction.atomic
def create_partner_account(
    partenaire: Partenaire, profile: Profile, identity: dict, *, actor, attached_to=None, request=None
) -> User:
    """Create an invited account within quota (A2–A4) and email its activation link (A7).

    The partner row is locked first: two creations racing for the last place cannot both pass.
    """
    partenaire = Partenaire.objects.select_for_update().get(pk=partenaire.pk)
    if profile not in (Profile.GESTIONNAIRE, Profile.TECHNICIEN):
        raise ValueError(profile)
    identity = {name: (identity.get(name) or "").strip() for name in IDENTITY_FIELDS}
    identity["email"] = identity["email"].lower()
    try:
        validate_professional_email(identity["email"], partenaire)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    _check_quota(partenaire, profile)
    user = User(
        username=unique_username(identity["first_name"], identity["last_name"]),
        profile=profile,
        partenaire=partenaire,
        state=AccountState.INVITE,
        created_by=actor,
        attached_to=attached_to,
        **identity,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password", "username"])
    _save_with_free_username(user)
    audit.record(Action.ACCOUNT_CREATED, actor=actor, target=user, request=request, details={"profil": profile.value})
    invitations.send_invitation(user, actor=actor, request=request)
    return user


def create_technicien(gestionnaire: User, identity: dict, *, request=None) -> User:
    """A6: only an active gestionnaire of the partner creates its techniciens."""
    if not (gestionnaire.is_gestionnaire and gestionnaire.is_active):
        raise PermissionDenied("Seul un gestionnaire de la structure crée les comptes techniciens.")
    return create_partner_account(
        gestionnaire.partenaire,
        Profile.TECHNICIEN,
        identity,
        actor=gestionnaire,
        attached_to=gestionnaire,
        request=request,
    )


def active_gestionnaires(partenaire: Partenaire):
    return User.objects.filter(partenaire=partenaire, profile=Profile.GESTIONNAIRE, state=AccountState.ACTIF)


def is_last_active_gestionnaire(user: User) -> bool:
    return user.is_gestionnaire and not active_gestionnaires(user.partenaire).exclude(pk=user.pk).exists()


@transaction.atomic
def inactivate_account(user: User, *, reason: InactivationReason, comment: str = "", actor=None, request=None) -> User:
    """Inactivate now: the account loses access at its next request (the backend refuses it).

    A gestionnaire's techniciens are attached to a remaining gestionnaire (A11). Only a partner's
    request is bound by the last-gestionnaire rule; fraud (A13) and the end of the convention (A14) are not.
    """
    reason = InactivationReason(reason)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.state in (AccountState.INACTIVE, AccountState.SUPPRIME):
        raise ValidationError("Ce compte est déjà inactivé.")
    if reason == InactivationReason.OTHER and not comment.strip():
        raise ValidationError({"comment": "Précisez le motif d'inactivation."})
    guard.check_fields(comment=comment)
    if reason == InactivationReason.PARTNER_REQUEST and is_last_active_gestionnaire(user):
        raise ValidationError(
            "C'est le dernier gestionnaire actif de la structure : un nouveau gestionnaire doit d'abord "
            "être habilité par la caisse."
        )
    now = timezone.now()
    user.state = AccountState.INACTIVE
    user.state_changed_at = now
    user.inactivated_at = now
    user.inactivation_reason = reason
    user.inactivation_comment = comment.strip()[:300]
    user.save(
        update_fields=["state", "state_changed_at", "inactivated_at", "inactivation_reason", "inactivation_comment"]
    )
    invitations.revoke_tokens(user)
    audit.record(Action.ACCOUNT_INACTIVATED, actor=actor, target=user, request=request, details={"motif": reason.value})
    if user.is_gestionnaire:
        reattach_techniciens(user, actor=actor, request=request)
    return user


def reattach_techniciens(former: User, *, actor=None, request=None) -> int:
    """A11: the techniciens a departing gestionnaire created stay active, attached to a remaining one."""
    successor = active_gestionnaires(former.partenaire).exclude(pk=former.pk).order_by("date_joined", "pk").first()
    techniciens = list(User.objects.filter(attached_to=former).exclude(state=AccountState.SUPPRIME))
    for technicien in techniciens:
        technicien.attached_to = successor
        technicien.save(update_fields=["attached_to"])
        audit.record(
            Action.ACCOUNT_REATTACHED,
            actor=actor,
            target=technicien,
            request=request,
            details={"gestionnaire": successor.pk if successor else None},
        )
    return len(techniciens)


def inactivate_technicien(
    technicien: User, *, gestionnaire: User, reason: InactivationReason, comment: str = "", request=None
) -> User:
    """A12: any active gestionnaire of the partner, with one of the three reasons."""
    if not (
        gestionnaire.is_gestionnaire
        and gestionnaire.is_active
        and technicien.is_technicien
        and technicien.partenaire_id == gestionnaire.partenaire_id
    ):
        raise PermissionDenied("Vous ne pouvez inactiver que les techniciens de votre structure.")
    if reason not in GESTIONNAIRE_REASONS:
        raise ValidationError({"reason": "Choisissez un motif dans la liste."})
    return inactivate_account(technicien, reason=reason, comment=comment, actor=gestionnaire, request=request)


@transaction.atomic
def resend_invitation(user: User, *, actor, request=None):
    """A new link for an account not yet activated; the previous links stop working."""
    if user.state != AccountState.INVITE:
        raise ValidationError("Ce compte est déjà activé ou n'est plus actif : aucune invitation à renvoyer.")
    if actor.is_gestionnaire and not (user.partenaire_id == actor.partenaire_id and user.is_technicien):
        raise PermissionDenied("Vous ne pouvez relancer que les techniciens de votre structure.")
    return invitations.send_invitation(user, actor=actor, request=request)


# --- Agents working for several caisses (object permissions, django-guardian) ------------------------


def _check_granting(agent: User, actor) -> None:
    if not (actor is not None and actor.is_superuser):
        raise PermissionDenied("Seul un administrateur national ouvre à un agent les dossiers d'une autre caisse.")
    if agent.profile != Profile.AGENT:
        raise ValidationError("Seuls les agents de caisse peuvent travailler pour plusieurs caisses.")


@transaction.atomic
def grant_caisse(agent: User, caisse, *, actor, request=None) -> None:
    from guardian.shortcuts import assign_perm

    from conventions.models import WORK_ON_CAISSE

    _check_granting(agent, actor)
    if caisse.pk == agent.caisse_id:
        raise ValidationError({"caisse": "C'est déjà la caisse de rattachement de cet agent."})
    assign_perm(f"conventions.{WORK_ON_CAISSE}", agent, caisse)
    audit.record(
        Action.ACCOUNT_CHANGED, actor=actor, target=agent, request=request, details={"caisse_ajoutee": caisse.pk}
    )


@transaction.atomic
def revoke_caisse(agent: User, caisse, *, actor, request=None) -> None:
    from guardian.shortcuts import remove_perm

    from conventions.models import WORK_ON_CAISSE

    _check_granting(agent, actor)
    remove_perm(f"conventions.{WORK_ON_CAISSE}", agent, caisse)
    audit.record(
        Action.ACCOUNT_CHANGED, actor=actor, target=agent, request=request, details={"caisse_retiree": caisse.pk}
    )
