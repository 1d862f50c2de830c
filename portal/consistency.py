"""Rules across rows that the database cannot hold by itself: querysets that find the rows breaking them.

Run each night as a job that journals what it finds (pseudonymous labels only), and shown to the national
administrator on a back-office page that lists the last run's findings. A finding is a bug or a missed job to
look into, never something fixed behind anyone's back.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts import quotas
from accounts.models import OCCUPYING_STATES, AccountState, Profile, User
from conventions.models import ConventionUtilisation, Partenaire
from core import audit
from core.models import Action, JournalEntry
from requests_app.models import Demande, DemandeChange

MAX_LISTED = 200  # per check and run: beyond, the count says how many more


@dataclass(frozen=True)
class Check:
    name: str
    rule: str
    label: str
    find: Callable[[], QuerySet]


def techniciens_attached_elsewhere() -> QuerySet:
    """A11: a technicien's gestionnaire is an active gestionnaire of the same structure."""
    attached_ok = Q(
        attached_to__partenaire=F("partenaire"),
        attached_to__profile=Profile.GESTIONNAIRE,
        attached_to__state=AccountState.ACTIF,
    )
    return User.objects.filter(
        profile=Profile.TECHNICIEN, state__in=OCCUPYING_STATES, attached_to__isnull=False
    ).exclude(attached_ok)


def demandes_off_their_history() -> QuerySet:
    """D7: a request's state is the last state its history recorded."""
    last = DemandeChange.objects.states().filter(demande=OuterRef("pk")).order_by("-at", "-id").values("new_value")
    return (
        Demande.objects.annotate(recorded=Subquery(last[:1]))
        .filter(Q(recorded__isnull=True) | ~Q(recorded=F("state")))
        .order_by("pk")
    )


def accounts_without_convention() -> QuerySet:
    """A14, C7: a structure with no convention d'utilisation in force has no active account."""
    in_force = ConventionUtilisation.objects.in_force().values("convention_metier__partenaire")
    return User.objects.filter(partenaire__isnull=False, state__in=OCCUPYING_STATES).exclude(partenaire__in=in_force)


def partners_over_quota() -> QuerySet:
    """A4: no more invited or active accounts of a profile than the member count allows."""
    return quotas.partners_over_quota(Partenaire.objects.all())


CHECKS = (
    Check("rattachement", "A11", "Techniciens rattachés à un gestionnaire qui n'est pas actif dans leur structure",
          techniciens_attached_elsewhere),
    Check("etat_demande", "D7", "Demandes dont l'état diffère du dernier changement enregistré",
          demandes_off_their_history),
    Check("comptes_sans_convention", "A14", "Comptes actifs d'une structure sans convention en vigueur",
          accounts_without_convention),
    Check("quota", "A4", "Structures au-delà de leur quota de comptes", partners_over_quota),
)  # fmt: skip


def run(*, dry_run: bool = False) -> int:
    """Every check; each finding journaled with its rule, and one summary row per run. Returns the findings."""
    run_id = str(uuid.uuid4())
    counts = {}
    for check in CHECKS:
        rows = list(check.find().order_by("pk")[: MAX_LISTED + 1])
        counts[check.name] = len(rows) if len(rows) <= MAX_LISTED else check.find().count()
        if not dry_run:
            audit.record_many(
                Action.CONSISTENCY_FINDING,
                rows[:MAX_LISTED],
                details={"run": run_id, "controle": check.name, "regle": check.rule},
            )
    if not dry_run:
        audit.record(Action.CONSISTENCY_CHECKED, details={"run": run_id, **counts})
    return sum(counts.values())


def last_run() -> dict | None:
    """The last run's findings, per check, for the back-office page."""
    summary = JournalEntry.objects.filter(action=Action.CONSISTENCY_CHECKED).order_by("-at", "-id").first()
    if summary is None:
        return None
    findings = JournalEntry.objects.filter(
        action=Action.CONSISTENCY_FINDING, details__run=summary.details["run"]
    ).order_by("id")
    by_check = {}
    for entry in findings:
        entry.admin_url = reverse(f"admin:{entry.target_type.replace('.', '_')}_change", args=[entry.target_id])
        by_check.setdefault(entry.details["controle"], []).append(entry)
    return {
        "at": timezone.localtime(summary.at),
        "checks": [
            {
                "check": check,
                "count": summary.details.get(check.name, 0),
                "findings": by_check.get(check.name, []),
            }
            for check in CHECKS
        ],
    }
