"""A1–A3 groundwork: one account model, profiles bound to a partner or a caisse, quotas by size."""

import pytest
from django.db import IntegrityError

from accounts.models import Profile, User
from accounts.quotas import quotas_for_member_count
from tests.accounts.factories import UserFactory
from tests.conventions.factories import CaisseFactory, PartenaireFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("profile", "partner", "caisse"),
    [
        (Profile.TECHNICIEN, False, True),
        (Profile.GESTIONNAIRE, False, False),
        (Profile.AGENT, True, False),
        (Profile.ADMINISTRATEUR, False, True),
    ],
)
def test_a1_profile_belongs_to_a_partner_or_a_caisse(profile, partner, caisse):
    with pytest.raises(IntegrityError):
        User.objects.create(
            username="x",
            profile=profile,
            partenaire=PartenaireFactory() if partner else None,
            caisse=CaisseFactory() if caisse else None,
        )


def test_a1_only_the_national_administrator_is_superuser():
    with pytest.raises(IntegrityError):
        UserFactory(agent=True, is_superuser=True)


def test_a1_staff_and_partner_profiles():
    assert UserFactory(agent=True).is_staff
    assert UserFactory(administrateur=True).is_staff
    technicien = UserFactory()
    assert not technicien.is_staff and technicien.is_partner and technicien.is_technicien


@pytest.mark.parametrize(
    ("members", "gestionnaires", "techniciens"),
    [(1, 2, 5), (10, 2, 5), (11, 3, 15), (13, 3, 15), (25, 3, 15), (26, 5, 25), (5000, 5, 25)],
)
def test_a2_a3_quotas_follow_the_member_count(members, gestionnaires, techniciens):
    quotas = quotas_for_member_count(members)
    assert (quotas.gestionnaires, quotas.techniciens) == (gestionnaires, techniciens)


def test_a2_member_count_below_one_has_no_quota():
    with pytest.raises(ValueError, match="at least 1"):
        quotas_for_member_count(0)
