"""C1, C2: caisses with ordered referents, partners with checked SIRET and member count."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from conventions import services
from conventions.models import DomaineEmail, Partenaire, Referent
from tests.conventions.factories import (
    CaisseFactory,
    DomaineEmailFactory,
    PartenaireFactory,
    ReferentFactory,
    valid_siret,
)

pytestmark = pytest.mark.django_db


def test_c1_referents_are_shown_in_their_order():
    caisse = CaisseFactory()
    ReferentFactory(caisse=caisse, position=2, full_name="Second Référent")
    ReferentFactory(caisse=caisse, position=1, full_name="Premier Référent")
    assert [r.full_name for r in caisse.referents.all()] == ["Premier Référent", "Second Référent"]


def test_c1_two_referents_cannot_share_a_position():
    caisse = CaisseFactory()
    ReferentFactory(caisse=caisse, position=1)
    duplicate = Referent(caisse=caisse, position=1, full_name="X", role="Y", email="x@caisse.example")
    with pytest.raises(ValidationError, match="même ordre"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_c1_referent_needs_a_phone_or_an_email():
    referent = Referent(caisse=CaisseFactory(), position=1, full_name="X", role="Y")
    with pytest.raises(ValidationError, match="au moins un téléphone ou un email"):
        referent.full_clean()


def test_c2_invalid_siret_is_refused_with_a_french_message():
    partenaire = PartenaireFactory.build(siret="12345678901234")
    with pytest.raises(ValidationError) as error:
        services.save_partenaire(partenaire)
    assert "n'est pas valide" in error.value.message_dict["siret"][0]
    assert not Partenaire.objects.exists()


def test_c2_siret_typed_with_spaces_is_stored_compact():
    siret = valid_siret(42)
    partenaire = services.save_partenaire(
        PartenaireFactory.build(siret=f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}")
    )
    partenaire.refresh_from_db()
    assert partenaire.siret == siret


def test_c2_siret_is_unique():
    existing = PartenaireFactory()
    with pytest.raises(ValidationError) as error:
        services.save_partenaire(PartenaireFactory.build(siret=existing.siret))
    assert "siret" in error.value.message_dict


@pytest.mark.parametrize("count", [0, -1])
def test_c2_member_count_is_at_least_one(count):
    with pytest.raises(ValidationError) as error:
        services.save_partenaire(PartenaireFactory.build(member_count=count))
    assert error.value.message_dict["member_count"]
    assert not Partenaire.objects.exists()


def test_c2_member_count_is_held_by_the_database():
    partenaire = PartenaireFactory()
    with pytest.raises(IntegrityError):
        Partenaire.objects.filter(pk=partenaire.pk).update(member_count=0)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Partenaire.Kind.ASE, True),
        (Partenaire.Kind.MANDATAIRE, True),
        (Partenaire.Kind.CCAS, False),
        (Partenaire.Kind.ASSOCIATION, False),
    ],
)
def test_c2_ase_and_mandataires_are_habilites_to_receive_documents_by_default(kind, expected):
    partenaire = services.save_partenaire(PartenaireFactory.build(kind=kind))
    assert partenaire.can_receive_documents is expected


def test_c2_email_domains_are_validated_and_unique_per_partner():
    domain = DomaineEmailFactory(domain="ccas-wattrelos.fr")
    with pytest.raises(ValidationError, match="déjà déclaré"):
        DomaineEmail(partenaire=domain.partenaire, domain="CCAS-Wattrelos.fr").full_clean()
    with pytest.raises(ValidationError, match="nom de domaine valide"):
        DomaineEmail(partenaire=domain.partenaire, domain="pas un domaine").full_clean()


def test_a13_suspension_needs_a_reason_and_is_journaled():
    from core.models import Action, JournalEntry

    partenaire = PartenaireFactory()
    with pytest.raises(ValidationError, match="motif"):
        services.suspend_partenaire(partenaire, reason="  ")
    services.suspend_partenaire(partenaire, reason="Usage frauduleux signalé")
    partenaire.refresh_from_db()
    assert partenaire.is_suspended
    assert JournalEntry.objects.filter(action=Action.PARTENAIRE_SUSPENDED, target_id=str(partenaire.pk)).exists()
    services.restore_partenaire(partenaire)
    partenaire.refresh_from_db()
    assert not partenaire.is_suspended
