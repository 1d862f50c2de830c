"""The caisse's back-office for accounts: the same services, French errors, scoped to the agent's caisse."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import habilitations
from accounts.models import (
    AccountState,
    HabilitationRequest,
    HabilitationReview,
    RequestStatus,
    User,
)
from accounts.permissions import sync_agent_group
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import ConventionUtilisationFactory, DomaineEmailFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = UserFactory(agent=True)
    user.groups.add(sync_agent_group())
    verified_login(client, user)
    return user


@pytest.fixture
def partenaire(agent):
    partenaire = ConventionUtilisationFactory(
        convention_metier__caisse=agent.caisse, convention_metier__partenaire__member_count=13
    ).convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    return partenaire


def identity(**overrides):
    return {
        "civilite": "m",
        "last_name": "Delattre",
        "first_name": "Marc",
        "job_title": "Responsable",
        "phone": "0320000000",
        "email": "marc@structure.example",
        **overrides,
    }


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a5_agent_records_a_request_and_sees_its_due_date(client, agent, partenaire):
    data = {"partenaire": partenaire.pk, "received_on": "26/11/2026", **identity()}
    response = client.post(reverse("admin:accounts_habilitationrequest_add"), data)
    assert response.status_code == 302
    request_obj = HabilitationRequest.objects.get()
    assert request_obj.due_on == date(2026, 12, 3)
    changelist = client.get(reverse("admin:accounts_habilitationrequest_changelist")).content.decode()
    assert "3 décembre 2026" in changelist or "03/12/2026" in changelist


def test_a5_overdue_requests_are_filtered(client, agent, partenaire):
    with time_machine.travel(date(2026, 11, 2), tick=False):
        late = habilitations.record_habilitation_request(HabilitationRequest(partenaire=partenaire, **identity()))
    habilitations.record_habilitation_request(
        HabilitationRequest(partenaire=partenaire, **identity(last_name="Recent", email="r@structure.example"))
    )
    response = client.get(reverse("admin:accounts_habilitationrequest_changelist") + "?delai=depasse")
    assert list(response.context["cl"].queryset) == [late]


def test_a5_agent_creates_the_gestionnaire_account_from_the_request(
    client, agent, partenaire, django_capture_on_commit_callbacks
):
    request_obj = habilitations.record_habilitation_request(HabilitationRequest(partenaire=partenaire, **identity()))
    url = reverse("admin:accounts_habilitationrequest_action", args=[request_obj.pk, "creer-compte"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {}, follow=True)
    assert "Compte gestionnaire marc.delattre créé" in response.content.decode()
    assert User.objects.get(username="marc.delattre").state == AccountState.INVITE
    assert mail.outbox[0].to == ["marc@structure.example"]


def test_a5_agent_of_another_caisse_does_not_see_the_request(client, partenaire):
    request_obj = habilitations.record_habilitation_request(HabilitationRequest(partenaire=partenaire, **identity()))
    stranger = UserFactory(agent=True)
    stranger.groups.add(sync_agent_group())
    verified_login(client, stranger)
    url = reverse("admin:accounts_habilitationrequest_change", args=[request_obj.pk])
    assert client.get(url).status_code == 404


def test_a10_agent_applies_a_modification_request(client, agent, partenaire):
    asking = UserFactory(gestionnaire=True, partenaire=partenaire, email="a@structure.example")
    target = UserFactory(gestionnaire=True, partenaire=partenaire, email="b@structure.example")
    demand = habilitations.request_gestionnaire_modification(target, {"phone": "0611223344"}, requested_by=asking)
    response = client.post(reverse("admin:accounts_gestionnairerequest_action", args=[demand.pk, "appliquer"]), {})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.phone == "0611223344"


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a11_agent_schedules_an_inactivation_at_the_wanted_date(client, agent, partenaire):
    asking = UserFactory(gestionnaire=True, partenaire=partenaire, email="a@structure.example")
    target = UserFactory(gestionnaire=True, partenaire=partenaire, email="b@structure.example")
    demand = habilitations.request_gestionnaire_inactivation(target, date(2026, 12, 20), requested_by=asking)
    response = client.post(
        reverse("admin:accounts_gestionnairerequest_action", args=[demand.pk, "programmer"]), {}, follow=True
    )
    assert "Inactivation programmée au 20/12/2026" in response.content.decode()
    demand.refresh_from_db()
    assert demand.status == RequestStatus.SCHEDULED


def test_a13_agent_inactivates_at_once_and_the_partner_is_told(
    client, agent, partenaire, django_capture_on_commit_callbacks
):
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire, email="g@structure.example")
    technicien = UserFactory(partenaire=partenaire)
    url = reverse("admin:accounts_user_action", args=[technicien.pk, "inactiver"])
    response = client.post(url, {"kind": "fraud", "description": ""})
    assert "Ce champ est obligatoire" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": "fraud", "description": "Connexions depuis l'étranger"})
    assert response.status_code == 302
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INACTIVE
    assert mail.outbox[0].to == [gestionnaire.email]


def test_a17_agent_resets_a_gestionnaires_second_factor(client, agent, partenaire):
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    TOTPDevice.objects.create(user=gestionnaire, name="Téléphone", confirmed=True)
    response = client.post(reverse("admin:accounts_user_action", args=[gestionnaire.pk, "reinitialiser-2fa"]), {})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=gestionnaire).exists()


def test_a16_agent_asks_for_a_review_and_late_ones_are_listed(client, agent, partenaire):
    due = timezone.localdate() + timedelta(days=7)
    response = client.post(
        reverse("admin:accounts_habilitationreview_add"),
        {"partenaire": partenaire.pk, "due_on": due.strftime("%d/%m/%Y")},
    )
    assert response.status_code == 302
    review = HabilitationReview.objects.get()
    assert review.requested_by == agent
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        verified_login(client, agent)
        response = client.get(reverse("admin:accounts_habilitationreview_changelist") + "?attestation=en_retard")
        assert list(response.context["cl"].queryset) == [review]


def test_a4_back_office_lists_partners_over_quota(client, agent, partenaire):
    UserFactory.create_batch(6, partenaire=partenaire)
    partenaire.member_count = 5
    partenaire.save()
    response = client.get(reverse("admin:conventions_partenaire_changelist") + "?quota=depasse")
    assert list(response.context["cl"].queryset) == [partenaire]


def test_a17_admin_requires_the_second_factor(client):
    agent = UserFactory(agent=True)
    client.force_login(agent)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/2fa/" in response.url
