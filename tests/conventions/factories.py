"""factory-boy factories of the conventions app (C1–C7): caisses, partners (valid SIRETs), conventions."""

from datetime import date

import factory
from stdnum import luhn
from stdnum.fr import siret as siret_checker

from conventions.models import (
    Caisse,
    CanalSecours,
    ConventionMetier,
    ConventionUtilisation,
    DomaineEmail,
    MiseEnDemeure,
    Partenaire,
    Referent,
    Service,
)


def valid_siret(n: int) -> str:
    siren8 = f"{n:08d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    for last in "0123456789":
        candidate = f"{siren}0001{last}"
        if siret_checker.is_valid(candidate):
            return candidate
    raise AssertionError("unreachable")


class CaisseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caisse
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"CPAM de Test {n}")
    code = factory.Sequence(lambda n: f"{100 + n}")
    address_line = "1 rue de la Caisse"
    postal_code = "59000"
    city = "Lille"


class ReferentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referent

    caisse = factory.SubFactory(CaisseFactory)
    position = factory.Sequence(lambda n: n + 1)
    full_name = factory.Faker("name", locale="fr_FR")
    role = "Référent partenaires"
    phone = "03 20 00 00 00"
    email = factory.Sequence(lambda n: f"referent{n}@caisse.example")


class CanalSecoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CanalSecours
        django_get_or_create = ("caisse", "service")

    caisse = factory.SubFactory(CaisseFactory)
    service = Service.CONTACT
    phone = "36 46"
    email = factory.Sequence(lambda n: f"secours{n}@caisse.example")
    opening_hours = "du lundi au vendredi, de 8 h 30 à 17 h 30"


class PartenaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partenaire

    name = factory.Sequence(lambda n: f"CCAS de Test {n}")
    kind = Partenaire.Kind.CCAS
    siret = factory.Sequence(lambda n: valid_siret(10_000_000 + n))
    address_line = "3 place de la Mairie"
    postal_code = "59150"
    city = "Wattrelos"
    legal_representative = "Claude Martin"
    member_count = 13


class DomaineEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DomaineEmail

    partenaire = factory.SubFactory(PartenaireFactory)
    domain = factory.Sequence(lambda n: f"structure{n}.example")


class ConventionMetierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConventionMetier

    caisse = factory.SubFactory(CaisseFactory)
    partenaire = factory.SubFactory(PartenaireFactory)
    start_date = date(2023, 9, 1)
    end_date = None


class ConventionUtilisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConventionUtilisation

    convention_metier = factory.SubFactory(ConventionMetierFactory)
    signed_on = date(2023, 9, 30)
    partner_signatory = "Claude Martin, Président"
    caisse_signatory = "Dominique Leroy, Directrice"
    deliberation_reference = "Délibération n° 58"


class MiseEnDemeureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MiseEnDemeure

    convention = factory.SubFactory(ConventionUtilisationFactory)
    issued_by = MiseEnDemeure.Issuer.CAISSE
    sent_on = date(2026, 1, 5)
    received_on = date(2026, 1, 7)
    grounds = "Utilisation non conforme aux CGU."


def partner_with_access(caisse=None, **partner_fields) -> ConventionUtilisation:
    """A partner holding a convention d'utilisation in force with `caisse`."""
    metier = ConventionMetierFactory(caisse=caisse or CaisseFactory(), partenaire=PartenaireFactory(**partner_fields))
    return ConventionUtilisationFactory(convention_metier=metier)
