"""C7, D8: an agent of caisse A sees nothing of caisse B — lists, search, autocomplete, export,
URLs, dashboard — unless the national administrator opens B to it (django-guardian object permission)."""

import pytest
from django.urls import reverse

from accounts import services as account_services
from accounts.permissions import sync_agent_group
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db


def file_one(convention, last_name):
    return DemandeFactory(convention=convention, assure_last_name=last_name, assure_first_name="Noé")


@pytest.fixture
def world(client):
    agent = UserFactory(agent=True)
    agent.groups.add(sync_agent_group())
    mine = partner_with_access(caisse=agent.caisse, name="Structure de ma caisse")
    other = partner_with_access(name="Structure d'une autre caisse")
    verified_login(client, agent)
    return {
        "agent": agent,
        "mine": mine,
        "other": other,
        "my_demande": file_one(mine, "Dupont"),
        "other_demande": file_one(other, "Durand"),
    }


def names(response):
    return {str(obj) for obj in response.context["cl"].result_list}


def test_agent_sees_none_of_another_caisse_in_lists_search_and_urls(client, world):
    other, other_demande = world["other"], world["other_demande"]
    lists = {
        "admin:conventions_partenaire_changelist": other.convention_metier.partenaire.name,
        "admin:conventions_conventionmetier_changelist": str(other.convention_metier),
        "admin:conventions_conventionutilisation_changelist": str(other),
        "admin:requests_app_demande_changelist": str(other_demande),
    }
    for url_name, forbidden in lists.items():
        response = client.get(reverse(url_name))
        assert forbidden not in names(response), url_name
    search = client.get(reverse("admin:requests_app_demande_changelist"), {"q": "durand"})
    assert not search.context["cl"].result_list
    for url in (
        reverse("admin:requests_app_demande_change", args=[other_demande.pk]),
        reverse("admin:conventions_partenaire_change", args=[other.convention_metier.partenaire.pk]),
        reverse("admin:conventions_conventionutilisation_change", args=[other.pk]),
        reverse("admin:requests_app_demande_action", args=[other_demande.pk, "repondre"]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("demande_detail", args=[other_demande.reference])).status_code == 403  # partner pages


def test_agent_autocomplete_and_export_stay_in_its_caisse(client, world):
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "conventions",
            "model_name": "conventionmetier",
            "field_name": "partenaire",
            "term": "Structure",
        },
    )
    found = {item["text"] for item in autocomplete.json()["results"]}
    assert found == {"Structure de ma caisse"}
    export = client.post(
        reverse("admin:requests_app_demande_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [world["my_demande"].pk, world["other_demande"].pk],
        },
    )
    content = b"".join(export.streaming_content).decode()
    assert world["my_demande"].reference in content and world["other_demande"].reference not in content


def test_dashboard_counts_only_the_agents_caisses(client, world):
    cards = {label: count for label, count, _ in client.get(reverse("admin:index")).context["queues"]["cards"]}
    assert cards["Demandes sans agent"] == 1


def test_national_administrator_opens_another_caisse_to_an_agent_and_closes_it(client, world):
    agent, other = world["agent"], world["other"]
    caisse = other.convention_metier.caisse
    admin = UserFactory(administrateur=True)
    account_services.grant_caisse(agent, caisse, actor=admin)
    verified_login(client, agent)
    assert client.get(reverse("admin:requests_app_demande_change", args=[world["other_demande"].pk])).status_code == 200
    account_services.revoke_caisse(agent, caisse, actor=admin)
    verified_login(client, agent)
    assert client.get(reverse("admin:requests_app_demande_change", args=[world["other_demande"].pk])).status_code == 404


def test_only_the_national_administrator_grants_caisses(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        account_services.grant_caisse(world["agent"], world["other"].convention_metier.caisse, actor=world["agent"])
