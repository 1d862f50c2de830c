"""Every change to an account goes through here (A1–A6, A11–A14): the pages, the admin, the tasks and
the commands call these functions. Each writes in one transaction, journals, and raises ValidationError
or PermissionDenied with a French message when a rule refuses."""

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Count, Value, When
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from conventions.models import WORK_ON_CAISSE, CaisseUserObjectPermission, Partenaire
from core import audit, guard, history, set_based
from core.models import Action

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


@dataclass(frozen=True)
class Places:
    """The gestionnaire's home (A2, A3, A4): places used and allowed per profile, and the invitations not yet
    accepted (they hold a place)."""

    usage: list[QuotaUsage]
    invited: list[User]


def partner_places(partenaire: Partenaire, *, invited_shown: int = 10) -> Places:
    """Two queries on the accounts' (partenaire, profile, state) index, whatever the number of accounts."""
    quotas = quotas_for(partenaire)
    accounts = User.objects.filter(partenaire=partenaire, state__in=OCCUPYING_STATES)
    used = accounts.aggregate(
        gestionnaires=Count("pk", filter=models.Q(profile=Profile.GESTIONNAIRE)),
        techniciens=Count("pk", filter=models.Q(profile=Profile.TECHNICIEN)),
    )
    invited = accounts.filter(state=AccountState.INVITE).order_by("date_joined", "id")[:invited_shown]
    return Places(
        usage=[
            QuotaUsage(Profile.GESTIONNAIRE, used["gestionnaires"], quotas.gestionnaires),
            QuotaUsage(Profile.TECHNICIEN, used["techniciens"], quotas.techniciens),
        ],
        invited=list(invited.only("civilite", "first_name", "last_name", "profile", "date_joined")),
    )


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
    partenaire: Partenaire, profile: Profile, identity: dict, *, actor, attached_to=None
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
    audit.record(Action.ACCOUNT_CREATED, actor=actor, target=user, details={"profil": profile.value})
    invitations.send_invitation(user, actor=actor)
    return user


def create_technicien(gestionnaire: User, identity: dict) -> User:
    """A6: only an active gestionnaire of the partner creates its techniciens."""
    if not (gestionnaire.is_gestionnaire and gestionnaire.is_active):
        raise PermissionDenied("Seul un gestionnaire de la structure crée les comptes techniciens.")
    return create_partner_account(
        gestionnaire.partenaire,
        Profile.TECHNICIEN,
        identity,
        actor=gestionnaire,
        attached_to=gestionnaire,
    )


def active_gestionnaires(partenaire: Partenaire):
    return User.objects.filter(partenaire=partenaire, profile=Profile.GESTIONNAIRE, state=AccountState.ACTIF)


LAST_GESTIONNAIRE_MESSAGE = (
    "C'est le dernier gestionnaire actif de la structure : un nouveau gestionnaire doit d'abord "
    "être habilité par la caisse."
)


def last_gestionnaires(users) -> set[int]:
    """A11: the gestionnaires among `users` whose inactivation, in this order, would leave their structure
    without an active gestionnaire (one query, whatever their number)."""
    gestionnaires = [user for user in users if user.is_gestionnaire]
    if not gestionnaires:
        return set()
    counts = (
        User.objects.filter(
            partenaire__in={user.partenaire_id for user in gestionnaires},
            profile=Profile.GESTIONNAIRE,
            state=AccountState.ACTIF,
        )
        .values_list("partenaire")
        .annotate(active=Count("pk"))
        .order_by()
    )
    remaining = dict(counts)
    last = set()
    for user in gestionnaires:
        active = user.state == AccountState.ACTIF
        others = remaining.get(user.partenaire_id, 0) - int(active)
        if others <= 0:
            last.add(user.pk)
        elif active:
            remaining[user.partenaire_id] -= 1
    return last


@transaction.atomic
def inactivate_accounts(accounts, *, reason: InactivationReason, comment: str = "", actor=None) -> list[User]:
    """Inactivate now the accounts of `accounts` still invited or active, and return them.

    Every inactivation goes through here (A11–A14), in a constant number of queries whatever the number of
    accounts: state, dates and reason in one UPDATE, one history row and one journal entry per account,
    links revoked, techniciens of a departing gestionnaire reattached (A11). An account loses access at its
    next request: the backend refuses it, whatever sessions it holds.

    Only a partner's request is bound by the last-gestionnaire rule; fraud (A13) and the end of the
    convention (A14) are not. Accounts another transaction holds are left to it (`SKIP LOCKED`): two workers
    never inactivate the same account; a job calls this once per batch, each batch committed.
    """
    reason = InactivationReason(reason)
    if reason == InactivationReason.OTHER and not comment.strip():
        raise ValidationError({"comment": "Précisez le motif d'inactivation."})
    guard.check_fields(comment=comment)
    users = list(
        accounts.filter(state__in=OCCUPYING_STATES).select_for_update(skip_locked=True, of=("self",)).order_by("pk")
    )
    if not users:
        return []
    if reason == InactivationReason.PARTNER_REQUEST and last_gestionnaires(users):
        raise ValidationError(LAST_GESTIONNAIRE_MESSAGE)
    now = timezone.now()
    changes = {
        "state": AccountState.INACTIVE,
        "state_changed_at": now,
        "inactivated_at": now,
        "inactivation_reason": reason,
        "inactivation_comment": comment.strip()[:300],
    }
    # One statement: the UPDATE of the locked rows, their history rows and their journal entries.
    set_based.run(
        [
            ("changed", set_based.update_sql(User, changes, "id = ANY(%s)", [[user.pk for user in users]])),
            ("history", history.insert_sql(User, "changed", reason=reason.label, when=now)),
            ("journal", audit.entries_sql(
                Action.ACCOUNT_INACTIVATED, set_based.rows_of(User, "changed"), actor=actor,
                details={"motif": reason.value})),
        ],
        "SELECT count(*) FROM changed",
    )  # fmt: skip
    for user in users:  # the rows are locked: this is what the UPDATE wrote
        for name, value in changes.items():
            setattr(user, name, value)
    invitations.revoke_all_tokens(users)
    # A14 inactivates every account of the structure: no gestionnaire remains to take the techniciens.
    if reason != InactivationReason.CONVENTION_ENDED:
        reattach_techniciens([user for user in users if user.is_gestionnaire], actor=actor)
    return users


@transaction.atomic
def inactivate_account(user: User, *, reason: InactivationReason, comment: str = "", actor=None) -> User:
    """Inactivate one account now (see `inactivate_accounts`); refused if it is already inactivated."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.state in (AccountState.INACTIVE, AccountState.SUPPRIME):
        raise ValidationError("Ce compte est déjà inactivé.")
    (user,) = inactivate_accounts(User.objects.filter(pk=user.pk), reason=reason, comment=comment, actor=actor)
    return user


def reattach_techniciens(formers: list[User], *, actor=None) -> int:
    """A11: the techniciens the departing gestionnaires (already inactivated) created stay active, attached
    to the first remaining active gestionnaire of the structure, or to none. A constant number of queries."""
    if not formers:
        return 0
    techniciens = list(
        User.objects.filter(attached_to__in=formers)
        .exclude(state=AccountState.SUPPRIME)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not techniciens:
        return 0
    successors = {}
    remaining = User.objects.filter(
        partenaire__in={former.partenaire_id for former in formers},
        profile=Profile.GESTIONNAIRE,
        state=AccountState.ACTIF,
    ).order_by("date_joined", "pk")
    for gestionnaire in remaining:
        successors.setdefault(gestionnaire.partenaire_id, gestionnaire.pk)
    successor_of = {former.pk: successors.get(former.partenaire_id) for former in formers}
    for technicien in techniciens:
        technicien.attached_to_id = successor_of[technicien.attached_to_id]
    changed = User.objects.filter(pk__in=[technicien.pk for technicien in techniciens])
    changed.update(
        attached_to=Case(
            *(When(attached_to=former, then=Value(successor)) for former, successor in successor_of.items()),
            output_field=models.BigIntegerField(),
        )
    )
    history.record_updates(changed)
    audit.record_many(
        Action.ACCOUNT_REATTACHED,
        techniciens,
        actor=actor,
        details=lambda technicien: {"gestionnaire": technicien.attached_to_id},
    )
    return len(techniciens)


def inactivate_technicien(
    technicien: User, *, gestionnaire: User, reason: InactivationReason, comment: str = ""
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
    return inactivate_account(technicien, reason=reason, comment=comment, actor=gestionnaire)


@transaction.atomic
def resend_invitation(user: User, *, actor):
    """A new link for an account not yet activated; the previous links stop working."""
    if user.state != AccountState.INVITE:
        raise ValidationError("Ce compte est déjà activé ou n'est plus actif : aucune invitation à renvoyer.")
    if actor.is_gestionnaire and not (user.partenaire_id == actor.partenaire_id and user.is_technicien):
        raise PermissionDenied("Vous ne pouvez relancer que les techniciens de votre structure.")
    return invitations.send_invitation(user, actor=actor)


# --- Agents working for several caisses (object permissions, django-guardian) ------------------------


def _check_granting(agent: User, actor) -> None:
    if not (actor is not None and actor.is_superuser):
        raise PermissionDenied("Seul un administrateur national ouvre à un agent les dossiers d'une autre caisse.")
    if agent.profile != Profile.AGENT:
        raise ValidationError("Seuls les agents de caisse peuvent travailler pour plusieurs caisses.")


@transaction.atomic
def grant_caisse(agent: User, caisse, *, actor) -> None:
    _check_granting(agent, actor)
    if caisse.pk == agent.caisse_id:
        raise ValidationError({"caisse": "C'est déjà la caisse de rattachement de cet agent."})
    assign_perm(f"conventions.{WORK_ON_CAISSE}", agent, caisse)
    audit.record(Action.ACCOUNT_CHANGED, actor=actor, target=agent, details={"caisse_ajoutee": caisse.pk})


@transaction.atomic
def revoke_caisse(agent: User, caisse, *, actor) -> None:
    _check_granting(agent, actor)
    remove_perm(f"conventions.{WORK_ON_CAISSE}", agent, caisse)
    audit.record(Action.ACCOUNT_CHANGED, actor=actor, target=agent, details={"caisse_retiree": caisse.pk})


def agents_of(caisse):
    """The active agents working on a caisse: its own, and those it was opened to (object permission)."""
    granted = CaisseUserObjectPermission.objects.filter(content_object=caisse, permission__codename=WORK_ON_CAISSE)
    return (
        User.objects.filter(profile=Profile.AGENT, state=AccountState.ACTIF)
        .filter(models.Q(caisse=caisse) | models.Q(pk__in=granted.values("user")))
        .order_by("last_name", "first_name")
    )
