"""Pages of every profile: login, home, contacts of the caisse (P3), in French."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountState
from conventions import services
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, ReferentFactory, partner_with_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def technicien():
    convention = partner_with_access()
    return UserFactory(partenaire=convention.convention_metier.partenaire)


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(reverse("contacts"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_error_is_in_french_and_keeps_the_identifier(client, technicien):
    response = client.post(reverse("login"), {"username": technicien.username, "password": "faux"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Identifiant ou mot de passe incorrect" in content
    assert f'value="{technicien.username}"' in content


@pytest.mark.parametrize("state", [AccountState.INVITE, AccountState.INACTIVE, AccountState.SUPPRIME])
def test_account_not_active_cannot_log_in(client, state):
    user = UserFactory(state=state, inactivated_at=timezone.now(), inactivation_reason="other")
    assert not client.login(username=user.username, password="Un-mot-de-passe-solide-1")


PASSWORD = "Un-mot-de-passe-solide-1"
GENERIC = "Identifiant ou mot de passe incorrect"


def login_error(client, username, password) -> str:
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    return response.content.decode()


def test_a13_inactivated_account_with_its_right_password_is_told_why_and_whom_to_ask(client, technicien):
    technicien.state, technicien.inactivation_reason = AccountState.INACTIVE, "left_structure"
    technicien.inactivated_at = timezone.make_aware(timezone.datetime(2026, 10, 5, 9, 30))
    technicien.save()
    content = login_error(client, technicien.username, PASSWORD)
    assert "Votre compte a été inactivé le 05/10/2026" in content and "un gestionnaire de votre structure" in content
    assert GENERIC not in content
    assert GENERIC in login_error(client, technicien.username, "pas-le-bon")  # no hint without the password


def test_a13_suspended_structure_is_told_so_after_the_right_password(client, technicien):
    services.suspend_partenaire(technicien.partenaire, reason="Usage non conforme")
    content = login_error(client, technicien.username, PASSWORD)
    assert "suspendu par la caisse" in content and "référent Espace Partenaires de votre caisse" in content
    assert GENERIC in login_error(client, technicien.username, "pas-le-bon")


def test_a7_invited_account_is_told_to_use_its_activation_link(client, technicien):
    technicien.state = AccountState.INVITE
    technicien.save()
    assert "pas encore activé" in login_error(client, technicien.username, PASSWORD)


def test_a15_deleted_account_gets_the_generic_message(client, technicien):
    technicien.state = AccountState.SUPPRIME
    technicien.set_unusable_password()
    technicien.save()
    assert GENERIC in login_error(client, technicien.username, PASSWORD)


def test_p3_contacts_lists_the_referents_of_the_partners_caisse_in_order(client, technicien):
    caisse = technicien.partenaire.conventions_metier.get().caisse
    ReferentFactory(caisse=caisse, position=2, full_name="Karim Benali", role="Chargé de mission")
    ReferentFactory(caisse=caisse, position=1, full_name="Camille Demoulin", role="Responsable", mobile_phone="06 01")
    ReferentFactory(caisse=CaisseFactory(), position=1, full_name="Référent Autre Caisse")
    verified_login(client, technicien)
    content = client.get(reverse("contacts")).content.decode()
    assert content.index("Camille Demoulin") < content.index("Karim Benali")
    assert 'href="tel:0601"' in content
    assert "Référent Autre Caisse" not in content


def test_a13_c7_suspended_structure_loses_access_at_its_next_request(client, technicien):
    verified_login(client, technicien)
    assert client.get(reverse("contacts")).status_code == 200
    services.suspend_partenaire(technicien.partenaire, reason="Usage non conforme")
    response = client.get(reverse("contacts"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not client.login(username=technicien.username, password="Un-mot-de-passe-solide-1")


def test_home_of_the_technicien_lists_the_services_its_caisse_opened(client, technicien):
    convention = technicien.partenaire.conventions_metier.get().convention_utilisation
    convention.service_rendez_vous = False
    services.save_convention_utilisation(convention)
    verified_login(client, technicien)
    content = client.get(reverse("home")).content.decode()
    assert "Demander un document" in content
    assert "Demander un rendez-vous pour un assuré" not in content


def test_a2_a3_home_of_the_gestionnaire_shows_the_quotas_of_its_structure(client):
    convention = partner_with_access(member_count=13)
    gestionnaire = UserFactory(gestionnaire=True, partenaire=convention.convention_metier.partenaire)
    verified_login(client, gestionnaire)
    content = client.get(reverse("home")).content.decode()
    assert "jusqu'à 3 gestionnaires et 15 techniciens" in content.replace("&#x27;", "'")


def test_home_of_the_agent_leads_to_the_back_office(client):
    agent = UserFactory(agent=True)
    verified_login(client, agent)
    content = client.get(reverse("home")).content.decode()
    assert reverse("admin:index") in content
    assert agent.caisse.name in content


@pytest.mark.parametrize("entitled", [True, False])
def test_p5_state_branding_only_where_the_deployment_is_entitled(client, settings, entitled):
    settings.PORTAL_STATE_BRANDING = entitled
    content = client.get(reverse("login")).content.decode()
    assert ('class="fr-logo"' in content) is entitled
    assert "Espace Partenaires" in content
