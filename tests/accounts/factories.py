"""factory-boy factories of the accounts app (A1–A17): accounts of every profile, habilitation requests."""

from datetime import date

import factory
from django.utils import timezone

from accounts.models import AccountState, Civilite, HabilitationRequest, Profile, RequestStatus, User
from tests.conventions.factories import CaisseFactory, PartenaireFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"utilisateur{n}")
    civilite = Civilite.MADAME
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@structure.example")
    profile = Profile.TECHNICIEN
    partenaire = factory.SubFactory(PartenaireFactory)
    caisse = None
    state = AccountState.ACTIF
    password = factory.django.Password("Un-mot-de-passe-solide-1")

    class Params:
        gestionnaire = factory.Trait(profile=Profile.GESTIONNAIRE)
        agent = factory.Trait(profile=Profile.AGENT, partenaire=None, caisse=factory.SubFactory(CaisseFactory))
        administrateur = factory.Trait(profile=Profile.ADMINISTRATEUR, partenaire=None, caisse=None, is_superuser=True)


class HabilitationRequestFactory(factory.django.DjangoModelFactory):
    """A5: a gestionnaire's habilitation asked of the caisse; `refused=True`, `done=True` for processed ones."""

    class Meta:
        model = HabilitationRequest

    partenaire = factory.SubFactory(PartenaireFactory)
    civilite = Civilite.MONSIEUR
    last_name = factory.Faker("last_name", locale="fr_FR")
    first_name = factory.Faker("first_name", locale="fr_FR")
    job_title = "Responsable du service social"
    phone = "03 20 00 00 00"
    email = factory.Sequence(lambda n: f"gestionnaire{n}@structure.example")
    received_on = date(2026, 11, 2)
    due_on = date(2026, 11, 9)

    class Params:
        refused = factory.Trait(
            status=RequestStatus.REFUSED,
            processed_at=factory.LazyFunction(timezone.now),
            refusal_reason="Convention non signée.",
        )
        done = factory.Trait(
            status=RequestStatus.DONE,
            processed_at=factory.LazyFunction(timezone.now),
            account=factory.SubFactory(
                UserFactory, gestionnaire=True, partenaire=factory.SelfAttribute("..partenaire")
            ),
        )
