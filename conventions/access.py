"""Partner access to a caisse, computed here and nowhere else (C7, C5, D9).

A partner has access to a caisse iff it holds a convention d'utilisation in force with it and the
structure is not suspended. A service is usable iff access holds and the caisse switched it on.
"""

from datetime import date

from .models import Caisse, ConventionUtilisation, Partenaire, Service


def conventions_granting_access(partenaire: Partenaire, on: date | None = None):
    if partenaire.is_suspended:
        return ConventionUtilisation.objects.none()
    return (
        ConventionUtilisation.objects.in_force(on)
        .filter(convention_metier__partenaire=partenaire)
        .select_related("convention_metier__caisse")
    )


def caisses_accessible(partenaire: Partenaire, on: date | None = None):
    return Caisse.objects.filter(pk__in=conventions_granting_access(partenaire, on).values("convention_metier__caisse"))


def convention_for(partenaire: Partenaire, caisse: Caisse, on: date | None = None):
    return conventions_granting_access(partenaire, on).filter(convention_metier__caisse=caisse).first()


def has_access(partenaire: Partenaire, caisse: Caisse, on: date | None = None) -> bool:
    return convention_for(partenaire, caisse, on) is not None


def service_enabled(partenaire: Partenaire, caisse: Caisse, service: Service, on: date | None = None) -> bool:
    field = ConventionUtilisation.service_field(service)
    return (
        conventions_granting_access(partenaire, on).filter(convention_metier__caisse=caisse, **{field: True}).exists()
    )


def history_caisses(partenaire: Partenaire) -> tuple[list[Caisse], set[int]]:
    """For the history (D8): the caisses it may show, by name, for its filter, and the ids of those it must hide
    (C5: the partner's latest convention with the caisse, ended or not, has the history off; D9: an ended one
    keeps its requests readable). Read from the partner's few conventions, never from its requests."""
    latest = {}
    conventions = ConventionUtilisation.objects.filter(convention_metier__partenaire=partenaire).order_by("signed_on")
    for convention in conventions.select_related("convention_metier__caisse"):
        latest[convention.convention_metier.caisse] = convention.service_historique
    shown = sorted((caisse for caisse, on in latest.items() if on), key=lambda caisse: caisse.name)
    return shown, {caisse.pk for caisse, on in latest.items() if not on}
