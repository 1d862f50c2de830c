"""The gestionnaire's pages (A6, A10–A13): French refusals, typed input kept, nothing half-created."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AccountState, GestionnaireRequest, Profile, User
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import DomaineEmailFactory, PartenaireFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gestionnaire(client):
    partenaire = PartenaireFactory(member_count=5)
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    user = UserFactory(gestionnaire=True, partenaire=partenaire, email="g@structure.example")
    verified_login(client, user)
    return user


def technicien_form(n=1, **overrides):
    return {
        "civilite": "mme",
        "last_name": f"Fontaine{n}",
        "first_name": "Léa",
        "job_title": "CESF",
        "phone": "03 20 00 00 00",
        "email": f"lea{n}@structure.example",
        **overrides,
    }


def test_a6_gestionnaire_creates_a_technicien_from_the_page(client, gestionnaire):
    response = client.post(reverse("technicien_create"), technicien_form())
    assert response.status_code == 302
    created = User.objects.get(profile=Profile.TECHNICIEN)
    assert created.created_by == gestionnaire and created.attached_to == gestionnaire
    assert created.state == AccountState.INVITE


def test_a4_quota_refusal_on_the_page_keeps_what_was_typed(client, gestionnaire):
    UserFactory.create_batch(5, partenaire=gestionnaire.partenaire)
    response = client.post(reverse("technicien_create"), technicien_form(9))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Quota atteint" in content and "en a déjà 5" in content
    assert 'value="Fontaine9"' in content
    assert User.objects.filter(profile=Profile.TECHNICIEN).count() == 5


def test_a9_consumer_webmail_is_refused_next_to_the_field(client, gestionnaire):
    response = client.post(reverse("technicien_create"), technicien_form(email="lea@gmail.com"))
    content = response.content.decode()
    assert "messagerie personnelle" in content
    assert 'value="lea@gmail.com"' in content
    assert not User.objects.filter(profile=Profile.TECHNICIEN).exists()


def test_a1_technicien_cannot_manage_accounts(client):
    technicien = UserFactory()
    verified_login(client, technicien)
    assert client.get(reverse("accounts_list")).status_code == 403
    assert client.post(reverse("technicien_create"), technicien_form()).status_code == 403


def test_a12_inactivation_page_needs_a_reason(client, gestionnaire):
    technicien = UserFactory(partenaire=gestionnaire.partenaire)
    url = reverse("technicien_inactivate", args=[technicien.pk])
    response = client.post(url, {"reason": "other", "comment": ""})
    assert "Précisez le motif" in response.content.decode()
    response = client.post(url, {"reason": "left_structure"})
    assert response.status_code == 302
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INACTIVE


def test_a12_technicien_of_another_structure_is_not_found(client, gestionnaire):
    stranger = UserFactory()
    assert client.get(reverse("technicien_inactivate", args=[stranger.pk])).status_code == 404


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a11_inactivation_request_page_refuses_a_close_date_and_the_last_gestionnaire(client, gestionnaire):
    url = reverse("gestionnaire_inactivation", args=[gestionnaire.pk])
    response = client.post(url, {"wanted_on": "2026-12-01"})
    assert "au moins 15 jours" in response.content.decode()
    response = client.post(url, {"wanted_on": "2027-01-04"})
    assert "dernier gestionnaire actif" in response.content.decode()
    assert not GestionnaireRequest.objects.exists()


def test_accounts_page_shows_places_used(client, gestionnaire):
    UserFactory(partenaire=gestionnaire.partenaire)
    content = client.get(reverse("accounts_list")).content.decode()
    assert "1 compte invité ou actif sur 5 autorisés" in content
    assert "1 compte invité ou actif sur 2 autorisés" in content


@pytest.mark.parametrize("payload", [{}, {"civilite": "x" * 500}, {"email": "pas-un-email", "phone": "\x00"}])
def test_bad_input_never_gives_a_500(client, gestionnaire, payload):
    response = client.post(reverse("technicien_create"), payload)
    assert response.status_code == 200
