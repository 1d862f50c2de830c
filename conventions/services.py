"""Every write on parties and conventions goes through here (C1–C7).

Each function validates, writes in one transaction and journals; it raises ValidationError with a
French message when a rule is broken, so pages and the admin show it next to the field.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core import audit, guard, history, set_based
from core.models import Action

from .models import (
    ConventionMetier,
    ConventionStatus,
    ConventionUtilisation,
    MiseEnDemeure,
    Partenaire,
)
from .validators import normalize_siret

# --- Partenaires -------------------------------------------------------------------------------------


def prepare_partenaire(partenaire: Partenaire) -> None:
    """Normalise and validate before saving: SIRET without spaces, document flag defaulted by kind."""
    partenaire.siret = normalize_siret(partenaire.siret)
    if partenaire._state.adding and partenaire.kind in Partenaire.KINDS_RECEIVING_DOCUMENTS:
        partenaire.can_receive_documents = True
    partenaire.full_clean()


@transaction.atomic
def save_partenaire(partenaire: Partenaire, *, actor=None) -> Partenaire:
    if partenaire._state.adding and actor is not None and actor.caisse_id:
        partenaire.created_by_caisse_id = actor.caisse_id  # visible to this caisse before any convention
    prepare_partenaire(partenaire)
    partenaire.save()
    audit.record(Action.PARTENAIRE_CHANGED, actor=actor, target=partenaire)
    return partenaire


@transaction.atomic
def suspend_partenaire(partenaire: Partenaire, *, reason: str, actor=None) -> Partenaire:
    """Suspend the whole structure (A13): it loses access to every caisse at once (C7)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la suspension."})
    guard.check_fields(reason=reason)
    partenaire = Partenaire.objects.select_for_update().get(pk=partenaire.pk)
    if partenaire.is_suspended:
        raise ValidationError("Cette structure est déjà suspendue.")
    partenaire.suspended_at = timezone.now()
    partenaire.suspension_reason = reason
    partenaire.save(update_fields=["suspended_at", "suspension_reason"])
    audit.record(Action.PARTENAIRE_SUSPENDED, actor=actor, target=partenaire)
    return partenaire


@transaction.atomic
def restore_partenaire(partenaire: Partenaire, *, actor=None) -> Partenaire:
    partenaire = Partenaire.objects.select_for_update().get(pk=partenaire.pk)
    if not partenaire.is_suspended:
        raise ValidationError("Cette structure n'est pas suspendue.")
    partenaire.suspended_at = None
    partenaire.suspension_reason = ""
    partenaire.save(update_fields=["suspended_at", "suspension_reason"])
    audit.record(Action.PARTENAIRE_RESTORED, actor=actor, target=partenaire)
    return partenaire


# --- Conventions métier ------------------------------------------------------------------------------


def validate_convention_metier(convention: ConventionMetier) -> None:
    convention.full_clean()
    if not convention._state.adding:
        stored = ConventionMetier.objects.get(pk=convention.pk)
        if (stored.caisse_id, stored.partenaire_id) != (convention.caisse_id, convention.partenaire_id):
            raise ValidationError("Les parties d'une convention signée ne changent pas : créez-en une nouvelle.")
        if stored.status != ConventionStatus.EN_VIGUEUR:
            raise ValidationError("Cette convention est terminée : elle ne se modifie plus.")


@transaction.atomic
def save_convention_metier(convention: ConventionMetier, *, actor=None) -> ConventionMetier:
    """Create or edit; an end date already passed ends it at once, like the nightly job would (C4)."""
    validate_convention_metier(convention)
    convention.save()
    audit.record(Action.CONVENTION_CHANGED, actor=actor, target=convention)
    today = timezone.localdate()
    if convention.end_date is not None and convention.end_date < today:
        end_convention_metier(convention, actor=actor)
    return convention


@transaction.atomic
def end_convention_metier(
    convention: ConventionMetier,
    *,
    terminated_on: date | None = None,
    reason: str = "",
    actor=None,
) -> ConventionMetier:
    """End a convention métier: at its end date (échéance) or early (résiliation, with a reason).

    Its convention d'utilisation ends with it, whatever the cause (C4, art. 8.2).
    """
    convention = ConventionMetier.objects.select_for_update().get(pk=convention.pk)
    if convention.status != ConventionStatus.EN_VIGUEUR:
        raise ValidationError("Cette convention est déjà terminée.")
    today = timezone.localdate()
    if terminated_on is None:
        if convention.end_date is None or convention.end_date >= today:
            raise ValidationError("Cette convention n'est pas arrivée à échéance.")
        _end("id = %s", [convention.pk], actor=actor)
        convention.status, convention.ended_on = ConventionStatus.TERMINEE, convention.end_date
        return convention
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la résiliation."})
    guard.check_fields(reason=reason)
    if terminated_on < convention.start_date:
        raise ValidationError({"terminated_on": "La résiliation ne peut pas précéder le début de la convention."})
    if terminated_on > today:
        raise ValidationError(
            {
                "terminated_on": "Une résiliation s'enregistre à sa date : pour une fin future, "
                "indiquez la date de fin de la convention."
            }
        )
    _end("id = %s", [convention.pk], terminated_on=terminated_on, reason=reason, actor=actor)
    convention.status = ConventionStatus.RESILIEE
    convention.end_date = convention.ended_on = terminated_on
    return convention


@transaction.atomic
def end_conventions_at_term(conventions, *, today: date | None = None) -> int:
    """End at their end date those of `conventions` past it, with their conventions d'utilisation, and return
    how many: one statement whatever their number. Conventions another transaction holds are left to it
    (`SKIP LOCKED`)."""
    where, params = set_based.locked_sql(conventions.past_their_end_date(today))
    return len(_end(where, params))


def _end(
    where: str,
    params: list,
    *,
    terminated_on: date | None = None,
    reason: str = "",
    actor=None,
) -> list[tuple]:
    """The one writer of a convention métier's end (C4): the conventions `where` selects end at their end
    date, or are terminated on `terminated_on`, and their conventions d'utilisation in force end with them.
    One statement: both UPDATEs, their history rows and their journal entries; returns the ended ids."""
    if terminated_on is None:
        changes = {"status": ConventionStatus.TERMINEE, "ended_on": RawSQL("end_date", ())}
        metier_action, details = Action.CONVENTION_ENDED, None
    else:
        changes = {"status": ConventionStatus.RESILIEE, "ended_on": terminated_on, "end_date": terminated_on}
        metier_action, details = Action.CONVENTION_TERMINATED, {"motif": reason}
    with_utilisation = {
        "status": ConventionStatus.TERMINEE,
        "ended_on": RawSQL("SELECT ended.ended_on FROM ended WHERE ended.id = convention_metier_id", ()),
    }
    in_force = "convention_metier_id IN (SELECT id FROM ended) AND status = %s"
    return set_based.run(
        [
            ("ended", set_based.update_sql(ConventionMetier, changes, where, params)),
            ("utilisations", set_based.update_sql(
                ConventionUtilisation, with_utilisation, in_force, [ConventionStatus.EN_VIGUEUR.value])),
            ("h1", history.insert_sql(ConventionMetier, "ended")),
            ("h2", history.insert_sql(ConventionUtilisation, "utilisations")),
            ("j1", audit.entries_sql(
                metier_action, set_based.rows_of(ConventionMetier, "ended"), actor=actor, details=details)),
            ("j2", audit.entries_sql(
                Action.CONVENTION_ENDED, set_based.rows_of(ConventionUtilisation, "utilisations"), actor=actor)),
        ],
        "SELECT id FROM ended",
    )  # fmt: skip


# --- Conventions d'utilisation -----------------------------------------------------------------------


def validate_convention_utilisation(convention: ConventionUtilisation) -> None:
    convention.full_clean()
    metier = convention.convention_metier
    if convention._state.adding and metier.status != ConventionStatus.EN_VIGUEUR:
        raise ValidationError(
            {
                "convention_metier": "Cette convention métier est terminée : une convention d'utilisation "
                "ne peut plus y être rattachée."
            }
        )
    if metier.end_date is not None and convention.signed_on > metier.end_date:
        raise ValidationError(
            {
                "signed_on": "La convention d'utilisation ne peut pas être signée après la fin de la "
                f"convention métier ({metier.end_date:%d/%m/%Y})."
            }
        )
    if not convention._state.adding:
        stored = ConventionUtilisation.objects.get(pk=convention.pk)
        if stored.convention_metier_id != convention.convention_metier_id:
            raise ValidationError(
                {"convention_metier": "Une convention d'utilisation ne change pas de convention métier."}
            )


@transaction.atomic
def save_convention_utilisation(convention: ConventionUtilisation, *, actor=None) -> ConventionUtilisation:
    """Create or edit, services on/off included (C5)."""
    validate_convention_utilisation(convention)
    convention.save()
    audit.record(Action.CONVENTION_CHANGED, actor=actor, target=convention)
    return convention


@transaction.atomic
def record_mise_en_demeure(notice: MiseEnDemeure, *, actor=None) -> MiseEnDemeure:
    notice.full_clean()
    guard.check_fields(grounds=notice.grounds)
    if notice.received_on > timezone.localdate():
        raise ValidationError({"received_on": "La date de réception ne peut pas être dans le futur."})
    if notice.convention.status != ConventionStatus.EN_VIGUEUR:
        raise ValidationError("Cette convention n'est plus en vigueur.")
    notice.recorded_by = actor
    notice.save()
    audit.record(Action.NOTICE_RECORDED, actor=actor, target=notice.convention)
    return notice


@transaction.atomic
def terminate_for_breach(
    convention: ConventionUtilisation,
    notice: MiseEnDemeure,
    *,
    terminated_on: date | None = None,
    actor=None,
) -> ConventionUtilisation:
    """Termination for breach, possible only 30 calendar days after the notice's receipt (C6)."""
    convention = ConventionUtilisation.objects.select_for_update().get(pk=convention.pk)
    terminated_on = terminated_on or timezone.localdate()
    if notice.convention_id != convention.pk:
        raise ValidationError({"notice": "Cette mise en demeure concerne une autre convention."})
    if convention.status != ConventionStatus.EN_VIGUEUR:
        raise ValidationError("Cette convention n'est plus en vigueur.")
    if terminated_on > timezone.localdate():
        raise ValidationError({"terminated_on": "La résiliation ne peut pas être datée dans le futur."})
    earliest = notice.termination_possible_from
    if terminated_on < earliest:
        raise ValidationError(
            {
                "terminated_on": f"La résiliation n'est possible qu'à partir du {earliest:%d/%m/%Y} : 30 jours "
                f"calendaires après la réception de la mise en demeure ({notice.received_on:%d/%m/%Y})."
            }
        )
    convention.status = ConventionStatus.RESILIEE
    convention.ended_on = terminated_on
    convention.termination_notice = notice
    convention.save(update_fields=["status", "ended_on", "termination_notice"])
    audit.record(Action.CONVENTION_TERMINATED, actor=actor, target=convention)
    return convention
