"""Canned replies (réponses types): scoped per caisse in the admin, national ones the national administrator's,
inserted in an answer in one action (with or without the script), the answer still checked by the guard (D4)."""

import pytest
from django.urls import reverse

from accounts.permissions import sync_agent_group
from requests_app.models import DemandeState, Message, ReponseType, Side
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db

HEALTH_TEXT = "La personne suit une chimiothérapie."


@pytest.fixture
def caisse():
    return CaisseFactory(name="CPAM du Nord")


@pytest.fixture
def agent(client, caisse):
    user = UserFactory(agent=True, caisse=caisse)
    user.groups.add(sync_agent_group())
    verified_login(client, user)
    return user


@pytest.fixture
def replies(caisse):
    return {
        "mine": ReponseType.objects.create(caisse=caisse, title="Pièce manquante", body="Il manque un justificatif."),
        "national": ReponseType.objects.create(title="Accusé de réception", body="Nous avons bien reçu la demande."),
        "other": ReponseType.objects.create(
            caisse=CaisseFactory(name="CPAM du Var"), title="Rendez-vous", body="Un rendez-vous vous est proposé."
        ),
    }


@pytest.fixture
def demande(caisse):
    return DemandeFactory(convention=partner_with_access(caisse=caisse), en_cours=True)


def answer_url(demande):
    return reverse("admin:requests_app_demande_action", args=[demande.pk, "repondre"])


def test_d7_agent_lists_his_caisses_and_the_national_replies_only(client, agent, replies):
    response = client.get(reverse("admin:requests_app_reponsetype_changelist"))
    assert {r.title for r in response.context["cl"].result_list} == {"Pièce manquante", "Accusé de réception"}
    other = replies["other"]
    assert client.get(reverse("admin:requests_app_reponsetype_change", args=[other.pk])).status_code == 404


def test_d7_national_replies_are_read_only_for_an_agent_and_editable_by_the_national_administrator(
    client, agent, replies
):
    national = replies["national"]
    url = reverse("admin:requests_app_reponsetype_change", args=[national.pk])
    response = client.post(url, {"title": "Changé", "body": "Changé"})
    assert response.status_code == 403
    national.refresh_from_db()
    assert national.title == "Accusé de réception"
    assert (
        client.post(reverse("admin:requests_app_reponsetype_delete", args=[national.pk]), {"post": "yes"}).status_code
        == 403
    )

    verified_login(client, UserFactory(administrateur=True))
    response = client.post(url, {"caisse": "", "title": "Accusé de réception", "body": "Bien reçu, merci."})
    assert response.status_code == 302
    national.refresh_from_db()
    assert national.body == "Bien reçu, merci."


def test_d7_an_agent_writes_replies_for_his_caisse_only(client, agent, caisse, replies):
    add = reverse("admin:requests_app_reponsetype_add")
    response = client.post(add, {"caisse": "", "title": "Nationale ?", "body": "Texte"})
    assert response.status_code == 200 and not ReponseType.objects.filter(title="Nationale ?").exists()
    response = client.post(add, {"caisse": replies["other"].caisse_id, "title": "Ailleurs", "body": "Texte"})
    assert response.status_code == 200 and not ReponseType.objects.filter(title="Ailleurs").exists()
    response = client.post(add, {"caisse": caisse.pk, "title": "Relance", "body": "Merci de nous répondre."})
    assert response.status_code == 302
    assert ReponseType.objects.get(title="Relance").caisse == caisse


def test_d4_a_canned_reply_with_health_data_is_refused(client, agent, caisse, health_lexicon):
    response = client.post(
        reverse("admin:requests_app_reponsetype_add"), {"caisse": caisse.pk, "title": "Soins", "body": HEALTH_TEXT}
    )
    assert response.status_code == 200
    assert "chimiothérapie" in response.content.decode().lower()
    assert not ReponseType.objects.filter(title="Soins").exists()


def test_d7_answer_form_offers_the_requests_caisse_and_national_replies_with_their_text(
    client, agent, replies, demande
):
    response = client.get(answer_url(demande))
    content = response.content.decode()
    choices = response.context["form"].fields["reponse_type"].queryset
    assert set(choices) == {replies["mine"], replies["national"]}
    assert 'data-body="Il manque un justificatif."' in content
    assert 'name="inserer"' in content and "portal/reponses_types.js" in content
    assert "Un rendez-vous vous est proposé." not in content


def test_d7_inserer_without_script_adds_the_text_and_sends_nothing(client, agent, replies, demande):
    before = Message.objects.filter(demande=demande).count()
    response = client.post(
        answer_url(demande),
        {"reponse_type": replies["mine"].pk, "body": "Bonjour,", "new_state": DemandeState.EN_ATTENTE, "inserer": "1"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form["body"].value() == "Bonjour,\n\nIl manque un justificatif."
    assert form["new_state"].value() == DemandeState.EN_ATTENTE  # what the agent chose stays
    assert Message.objects.filter(demande=demande).count() == before
    demande.refresh_from_db()
    assert demande.state == DemandeState.EN_COURS


def test_d7_inserer_refuses_another_caisses_reply(client, agent, replies, demande):
    response = client.post(answer_url(demande), {"reponse_type": replies["other"].pk, "body": "", "inserer": "1"})
    assert response.status_code == 200
    assert response.context["form"]["body"].value() in ("", None)
    assert "Choisissez une réponse type" in response.content.decode()


def test_d4_the_answer_with_a_canned_reply_is_still_checked_by_the_guard(
    client, agent, replies, demande, health_lexicon
):
    body = f"{replies['mine'].body}\n{HEALTH_TEXT}"
    response = client.post(answer_url(demande), {"reponse_type": replies["mine"].pk, "body": body})
    assert response.status_code == 200
    assert "chimiothérapie" in response.content.decode().lower()
    assert not Message.objects.filter(demande=demande, side=Side.CAISSE).exists()

    response = client.post(answer_url(demande), {"reponse_type": replies["mine"].pk, "body": replies["mine"].body})
    assert response.status_code == 302
    assert Message.objects.get(demande=demande, side=Side.CAISSE).body == "Il manque un justificatif."
