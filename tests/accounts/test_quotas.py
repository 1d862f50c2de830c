"""A2–A6: quotas by member count, counted on invited and active accounts, held under concurrency."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection

from accounts import services
from accounts.models import AccountState, InactivationReason, Profile, User
from accounts.quotas import partners_over_quota
from conventions.models import Partenaire
from tests.accounts.factories import UserFactory
from tests.conventions.factories import DomaineEmailFactory, PartenaireFactory


def identity(n, domain="structure.example"):
    return {
        "civilite": "mme",
        "last_name": f"Martin{n}",
        "first_name": "Léa",
        "job_title": "CESF",
        "phone": "0320000000",
        "email": f"lea.martin{n}@{domain}",
    }


@pytest.fixture
def gestionnaire(db):
    partenaire = PartenaireFactory(member_count=10)
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    return UserFactory(gestionnaire=True, partenaire=partenaire)


@pytest.mark.django_db
@pytest.mark.parametrize(("members", "limit"), [(1, 5), (10, 5), (11, 15), (25, 15), (26, 25)])
def test_a3_technicien_quota_boundaries(members, limit):
    partenaire = PartenaireFactory(member_count=members)
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    for n in range(limit):
        services.create_technicien(gestionnaire, identity(n))
    with pytest.raises(ValidationError, match=f"peut avoir {limit} comptes techniciens"):
        services.create_technicien(gestionnaire, identity(limit))
    assert User.objects.filter(profile=Profile.TECHNICIEN, partenaire=partenaire).count() == limit


@pytest.mark.django_db
@pytest.mark.parametrize(("members", "limit"), [(1, 2), (10, 2), (11, 3), (25, 3), (26, 5)])
def test_a2_gestionnaire_quota_boundaries(members, limit):
    partenaire = PartenaireFactory(member_count=members)
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    agent = UserFactory(agent=True)
    for n in range(limit):
        services.create_partner_account(partenaire, Profile.GESTIONNAIRE, identity(n), actor=agent)
    with pytest.raises(ValidationError, match="Quota atteint"):
        services.create_partner_account(partenaire, Profile.GESTIONNAIRE, identity(limit), actor=agent)


@pytest.mark.django_db
def test_a4_inactivated_accounts_free_their_place(gestionnaire):
    accounts = [services.create_technicien(gestionnaire, identity(n)) for n in range(5)]
    with pytest.raises(ValidationError):
        services.create_technicien(gestionnaire, identity(5))
    services.inactivate_technicien(accounts[0], gestionnaire=gestionnaire, reason=InactivationReason.LEFT_STRUCTURE)
    services.create_technicien(gestionnaire, identity(5))


@pytest.mark.django_db
def test_a4_lowering_the_member_count_inactivates_nobody_but_blocks_creation(gestionnaire):
    partenaire = gestionnaire.partenaire
    partenaire.member_count = 30
    partenaire.save()
    for n in range(8):
        services.create_technicien(gestionnaire, identity(n))
    partenaire.member_count = 5
    partenaire.save()
    assert User.objects.filter(profile=Profile.TECHNICIEN, state=AccountState.INVITE).count() == 8
    with pytest.raises(ValidationError, match="en a déjà 8"):
        services.create_technicien(gestionnaire, identity(9))
    assert list(partners_over_quota(Partenaire.objects.all())) == [partenaire]


@pytest.mark.django_db
def test_a4_quota_refusal_tells_places_and_usage(gestionnaire):
    for n in range(5):
        services.create_technicien(gestionnaire, identity(n))
    with pytest.raises(ValidationError) as error:
        services.create_technicien(gestionnaire, identity(5))
    message = error.value.messages[0]
    assert "avec 10 membres" in message and "5 comptes techniciens" in message and "en a déjà 5" in message


@pytest.mark.django_db(transaction=True)
def test_a4_two_creations_racing_for_the_last_place_exactly_one_wins():
    """Two threads, two real PostgreSQL connections, one place left: the partner row lock serialises them."""
    partenaire = PartenaireFactory(member_count=10)
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    for n in range(4):
        services.create_technicien(gestionnaire, identity(n))
    barrier = threading.Barrier(2)
    outcomes = []

    def create(n):
        try:
            barrier.wait(timeout=10)
            services.create_technicien(gestionnaire, identity(100 + n))
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    assert sorted(outcomes) == ["created", "refused"]
    assert User.objects.filter(partenaire=partenaire, profile=Profile.TECHNICIEN).count() == 5


@pytest.mark.django_db
def test_a6_only_a_gestionnaire_creates_techniciens(gestionnaire):
    technicien = UserFactory(partenaire=gestionnaire.partenaire)
    with pytest.raises(PermissionDenied):
        services.create_technicien(technicien, identity(1))


@pytest.mark.django_db
def test_a1_one_person_may_hold_two_accounts_with_two_logins(gestionnaire):
    first = services.create_technicien(gestionnaire, identity(1))
    second = services.create_technicien(gestionnaire, identity(1))
    assert first.email == second.email
    assert first.username == "lea.martin1" and second.username == "lea.martin12"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("lea@gmail.com", "messagerie personnelle"),
        ("lea@orange.fr", "messagerie personnelle"),
        ("lea@autre-structure.example", "domaine professionnel"),
    ],
)
def test_a9_account_email_must_be_professional(gestionnaire, email, message):
    with pytest.raises(ValidationError) as error:
        services.create_technicien(gestionnaire, {**identity(1), "email": email})
    assert message in error.value.message_dict["email"][0]
    assert not User.objects.filter(profile=Profile.TECHNICIEN).exists()
