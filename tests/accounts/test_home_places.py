"""The gestionnaire's home shows the places used and allowed per profile and the invitations not yet accepted
(A2, A3, A4), in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountState
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def gestionnaire():
    partenaire = partner_with_access(member_count=13).convention_metier.partenaire  # 3 gestionnaires, 15 techniciens
    return UserFactory(gestionnaire=True, partenaire=partenaire)


def test_a2_a3_a4_home_shows_places_used_out_of_allowed_and_pending_invitations(client, gestionnaire):
    partenaire = gestionnaire.partenaire
    UserFactory(partenaire=partenaire)
    UserFactory(partenaire=partenaire, state=AccountState.INVITE, first_name="Inès", last_name="Garnier")
    UserFactory(
        partenaire=partenaire, state=AccountState.INACTIVE, inactivated_at=timezone.now(), inactivation_reason="other"
    )  # no place (A4)
    UserFactory(partenaire=partner_with_access().convention_metier.partenaire)  # another structure's
    verified_login(client, gestionnaire)
    content = client.get(reverse("home")).content.decode().replace("&#x27;", "'")
    assert "Gestionnaires : <strong>1 place utilisée sur 3</strong>" in content
    assert "Techniciens : <strong>2 places utilisées sur 15</strong>" in content
    assert "Invitations en attente" in content and "Inès Garnier (technicien)" in content


def test_a4_home_says_when_the_structure_is_over_quota(client, gestionnaire):
    partenaire = gestionnaire.partenaire
    for _ in range(3):
        UserFactory(gestionnaire=True, partenaire=partenaire)
    verified_login(client, gestionnaire)
    content = client.get(reverse("home")).content.decode()
    assert "4 places utilisées sur 3</strong> — au-delà du quota" in content
    assert "Aucune invitation en attente." in content


def test_a4_places_cost_two_queries_whatever_the_number_of_accounts(client, gestionnaire):
    verified_login(client, gestionnaire)

    def account_queries():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("home"))
        return [q for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]

    few = account_queries()
    for _ in range(6):
        UserFactory(partenaire=gestionnaire.partenaire, state=AccountState.INVITE)
    assert len(account_queries()) == len(few)
