"""C3–C6: conventions métier and d'utilisation, their life and their end."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from conventions import services
from conventions.models import ConventionMetier, ConventionStatus, ConventionUtilisation, MiseEnDemeure
from core.models import Action, JournalEntry
from tests.conventions.factories import (
    CaisseFactory,
    ConventionMetierFactory,
    ConventionUtilisationFactory,
    MiseEnDemeureFactory,
    PartenaireFactory,
)

pytestmark = pytest.mark.django_db


def test_c3_end_date_before_start_date_is_refused():
    convention = ConventionMetierFactory.build(
        caisse=CaisseFactory(),
        partenaire=PartenaireFactory(),
        start_date=date(2024, 1, 10),
        end_date=date(2024, 1, 9),
    )
    with pytest.raises(ValidationError, match="ne peut pas précéder la date de début"):
        services.save_convention_metier(convention)
    assert not ConventionMetier.objects.exists()


def test_c3_end_before_start_is_held_by_the_database():
    convention = ConventionMetierFactory(start_date=date(2024, 1, 10))
    with pytest.raises(IntegrityError):
        ConventionMetier.objects.filter(pk=convention.pk).update(end_date=date(2024, 1, 1))


def test_c3_a_partner_may_hold_conventions_with_several_caisses():
    partenaire = PartenaireFactory()
    for caisse in (CaisseFactory(), CaisseFactory()):
        services.save_convention_metier(
            ConventionMetier(caisse=caisse, partenaire=partenaire, start_date=date(2024, 1, 1))
        )
    assert partenaire.conventions_metier.in_force().count() == 2


def test_c3_only_one_convention_in_force_per_partner_and_caisse():
    existing = ConventionMetierFactory()
    second = ConventionMetier(caisse=existing.caisse, partenaire=existing.partenaire, start_date=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="déjà une convention métier en vigueur"):
        services.save_convention_metier(second)


def test_c3_parties_of_a_signed_convention_do_not_change():
    convention = ConventionMetierFactory()
    convention.caisse = CaisseFactory()
    with pytest.raises(ValidationError, match="ne changent pas"):
        services.save_convention_metier(convention)


def test_c4_one_convention_utilisation_per_convention_metier():
    existing = ConventionUtilisationFactory()
    second = ConventionUtilisationFactory.build(convention_metier=existing.convention_metier)
    with pytest.raises(ValidationError, match="a déjà une convention d'utilisation"):
        services.save_convention_utilisation(second)
    assert ConventionUtilisation.objects.count() == 1


def test_c4_convention_utilisation_takes_effect_on_its_signature_date():
    convention = ConventionUtilisationFactory(signed_on=date(2026, 3, 10))
    in_force = ConventionUtilisation.objects.in_force
    assert not in_force(date(2026, 3, 9)).filter(pk=convention.pk).exists()
    assert in_force(date(2026, 3, 10)).filter(pk=convention.pk).exists()


def test_c4_convention_utilisation_lasts_as_long_as_the_metier_one():
    convention = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 6, 30))
    in_force = ConventionUtilisation.objects.in_force
    assert in_force(date(2026, 6, 30)).filter(pk=convention.pk).exists()
    assert not in_force(date(2026, 7, 1)).filter(pk=convention.pk).exists()


def test_c4_cannot_be_signed_after_the_end_of_the_metier_convention():
    metier = ConventionMetierFactory(end_date=date(2025, 12, 31))
    convention = ConventionUtilisationFactory.build(convention_metier=metier, signed_on=date(2026, 1, 2))
    with pytest.raises(ValidationError) as error:
        services.save_convention_utilisation(convention)
    assert "après la fin de la convention métier" in error.value.message_dict["signed_on"][0]


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_c4_metier_reaching_its_end_date_ends_the_convention_utilisation():
    convention = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 11, 25))
    services.end_convention_metier(convention.convention_metier)
    convention.refresh_from_db()
    assert convention.convention_metier.status == ConventionStatus.TERMINEE
    assert convention.status == ConventionStatus.TERMINEE
    assert convention.ended_on == date(2026, 11, 25)


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_c4_metier_not_yet_at_its_end_date_is_not_ended():
    convention = ConventionUtilisationFactory(convention_metier__end_date=date(2026, 11, 26))
    with pytest.raises(ValidationError, match="pas arrivée à échéance"):
        services.end_convention_metier(convention.convention_metier)


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_c4_termination_of_the_metier_terminates_the_convention_utilisation():
    convention = ConventionUtilisationFactory()
    services.end_convention_metier(
        convention.convention_metier, terminated_on=date(2026, 11, 20), reason="Fin du partenariat"
    )
    convention.refresh_from_db()
    assert convention.convention_metier.status == ConventionStatus.RESILIEE
    assert convention.convention_metier.end_date == date(2026, 11, 20)
    assert convention.status == ConventionStatus.TERMINEE
    assert JournalEntry.objects.filter(action=Action.CONVENTION_TERMINATED).exists()


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_c4_termination_of_the_metier_needs_a_reason_and_a_past_date():
    metier = ConventionUtilisationFactory().convention_metier
    with pytest.raises(ValidationError, match="motif"):
        services.end_convention_metier(metier, terminated_on=date(2026, 11, 20))
    with pytest.raises(ValidationError, match="s'enregistre à sa date"):
        services.end_convention_metier(metier, terminated_on=date(2026, 12, 1), reason="Fin")
    metier.refresh_from_db()
    assert metier.status == ConventionStatus.EN_VIGUEUR


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_c4_saving_an_end_date_already_passed_ends_the_conventions():
    convention = ConventionUtilisationFactory()
    metier = convention.convention_metier
    metier.end_date = date(2026, 10, 31)
    services.save_convention_metier(metier)
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.TERMINEE
    assert convention.ended_on == date(2026, 10, 31)


def test_c4_ended_convention_cannot_take_a_new_convention_utilisation():
    metier = ConventionMetierFactory(end_date=date(2024, 12, 31))
    with time_machine.travel(date(2025, 6, 1), tick=False):
        services.end_convention_metier(metier)
    metier.refresh_from_db()
    convention = ConventionUtilisationFactory.build(convention_metier=metier, signed_on=date(2024, 6, 1))
    with pytest.raises(ValidationError, match="ne peut plus y être rattachée"):
        services.save_convention_utilisation(convention)


def test_c5_services_are_switched_per_convention():
    convention = ConventionUtilisationFactory(service_rendez_vous=False, service_historique=False)
    enabled = {service.value for service in convention.enabled_services}
    assert enabled == {"contact", "etude_dossier", "signalement", "document"}


@time_machine.travel(date(2026, 2, 5), tick=False)
def test_c6_termination_refused_before_30_days():
    notice = MiseEnDemeureFactory(received_on=date(2026, 1, 7))
    with pytest.raises(ValidationError) as error:
        services.terminate_for_breach(notice.convention, notice, terminated_on=date(2026, 2, 5))
    assert "qu'à partir du 06/02/2026" in error.value.message_dict["terminated_on"][0]
    notice.convention.refresh_from_db()
    assert notice.convention.status == ConventionStatus.EN_VIGUEUR


@time_machine.travel(date(2026, 2, 6), tick=False)
def test_c6_termination_allowed_30_calendar_days_after_receipt():
    notice = MiseEnDemeureFactory(received_on=date(2026, 1, 7))
    services.terminate_for_breach(notice.convention, notice)
    notice.convention.refresh_from_db()
    assert notice.convention.status == ConventionStatus.RESILIEE
    assert notice.convention.ended_on == date(2026, 2, 6)
    assert notice.convention.termination_notice == notice
    # The convention métier goes on: only the use of the portal ends.
    assert notice.convention.convention_metier.status == ConventionStatus.EN_VIGUEUR


@time_machine.travel(date(2026, 6, 1), tick=False)
def test_c6_notice_of_another_convention_is_refused():
    notice = MiseEnDemeureFactory()
    other = ConventionUtilisationFactory()
    with pytest.raises(ValidationError, match="autre convention"):
        services.terminate_for_breach(other, notice)


@time_machine.travel(date(2026, 1, 6), tick=False)
def test_c6_notice_received_in_the_future_is_refused():
    notice = MiseEnDemeure(
        convention=ConventionUtilisationFactory(),
        issued_by="caisse",
        sent_on=date(2026, 1, 5),
        received_on=date(2026, 1, 7),
        grounds="Manquement",
    )
    with pytest.raises(ValidationError, match="dans le futur"):
        services.record_mise_en_demeure(notice)
    assert not MiseEnDemeure.objects.exists()
