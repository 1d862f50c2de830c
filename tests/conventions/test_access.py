"""C7: a partner reaches a caisse iff a convention d'utilisation is in force and it is not suspended."""

from datetime import date

import pytest

from conventions import access, services
from conventions.models import Service
from tests.conventions.factories import CaisseFactory, ConventionUtilisationFactory, partner_with_access

pytestmark = pytest.mark.django_db


def test_c7_access_with_a_convention_in_force():
    convention = partner_with_access()
    metier = convention.convention_metier
    assert access.has_access(metier.partenaire, metier.caisse)
    assert list(access.caisses_accessible(metier.partenaire)) == [metier.caisse]


def test_c7_no_access_to_a_caisse_without_convention():
    convention = partner_with_access()
    assert not access.has_access(convention.convention_metier.partenaire, CaisseFactory())


def test_c7_suspended_partner_loses_access_to_every_caisse():
    convention = partner_with_access()
    partenaire = convention.convention_metier.partenaire
    services.suspend_partenaire(partenaire, reason="Usage non conforme")
    partenaire.refresh_from_db()
    assert not access.has_access(partenaire, convention.convention_metier.caisse)
    assert not access.caisses_accessible(partenaire).exists()


def test_c7_multi_caisse_partner_keeps_the_other_caisse_when_one_convention_ends():
    kept = partner_with_access()
    partenaire = kept.convention_metier.partenaire
    ended = ConventionUtilisationFactory(
        convention_metier__partenaire=partenaire, convention_metier__end_date=date(2026, 6, 30)
    )
    on = date(2026, 7, 1)
    assert list(access.caisses_accessible(partenaire, on)) == [kept.convention_metier.caisse]
    assert not access.has_access(partenaire, ended.convention_metier.caisse, on)


def test_c7_access_starts_at_signature_and_holds_through_the_end_date():
    convention = ConventionUtilisationFactory(signed_on=date(2024, 1, 10), convention_metier__end_date=date(2025, 1, 9))
    partenaire, caisse = convention.convention_metier.partenaire, convention.convention_metier.caisse
    assert not access.has_access(partenaire, caisse, date(2024, 1, 9))
    assert access.has_access(partenaire, caisse, date(2025, 1, 9))
    assert not access.has_access(partenaire, caisse, date(2025, 1, 10))


def test_c5_c7_service_enabled_only_where_access_holds_and_service_is_on():
    convention = partner_with_access()
    convention.service_document = False
    services.save_convention_utilisation(convention)
    partenaire, caisse = convention.convention_metier.partenaire, convention.convention_metier.caisse
    assert access.service_enabled(partenaire, caisse, Service.CONTACT)
    assert not access.service_enabled(partenaire, caisse, Service.DOCUMENT)
    assert not access.service_enabled(partenaire, CaisseFactory(), Service.CONTACT)
