"""Admin list filters offer only what the viewer may see (issue 13): an agent's "Par caisse" lists its caisses,
never another caisse's name, on every changelist."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.urls import reverse

from accounts import services as account_services
from accounts.permissions import sync_agent_group
from core.admin_scoping import VisibleRelatedFieldListFilter
from requests_app.admin_demandes import ScopedChoiceFilter
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db


def relation_filters():
    for model, model_admin in admin.site._registry.items():
        for entry in model_admin.list_filter:
            path, cls = entry if isinstance(entry, tuple) else (entry, None)
            if isinstance(path, str):
                field = get_fields_from_path(model, path)[-1]
                if field.is_relation:
                    yield f"{model._meta.label}.{path}", cls


def test_every_relation_filter_of_the_admin_is_scoped_to_the_viewer():
    found = dict(relation_filters())
    assert found, "no relation filter found: the test reads nothing"
    unscoped = [name for name, cls in found.items() if not (cls and issubclass(cls, VisibleRelatedFieldListFilter))]
    assert unscoped == []


def test_every_choice_filter_of_the_admin_reads_choices_from_the_viewers_scope():
    # The hand-written ones (requests' caisse and partner) list from `visible_to`, never from the requests.
    for model_admin in admin.site._registry.values():
        for entry in model_admin.list_filter:
            if isinstance(entry, type) and issubclass(entry, ScopedChoiceFilter):
                assert entry.choices_queryset is not ScopedChoiceFilter.choices_queryset


@pytest.fixture
def agent_of_two(client):
    mine, second, other = (
        CaisseFactory(name="CPAM du Nord"),
        CaisseFactory(name="CPAM de l'Artois"),
        CaisseFactory(name="CPAM du Var"),
    )
    for caisse in (mine, second, other):
        DemandeFactory(convention=partner_with_access(caisse=caisse))
    agent = UserFactory(agent=True, caisse=mine)
    agent.groups.add(sync_agent_group())
    account_services.grant_caisse(agent, second, actor=UserFactory(administrateur=True))
    verified_login(client, agent)
    return agent


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:conventions_conventionmetier_changelist",
        "admin:conventions_conventionutilisation_changelist",
        "admin:requests_app_demande_changelist",
        "admin:requests_app_reponsetype_changelist",
    ],
)
def test_caisse_filter_lists_the_agents_caisses_only(client, agent_of_two, changelist):
    content = client.get(reverse(changelist)).content.decode().replace("&#x27;", "'")
    assert "CPAM du Nord" in content and "CPAM de l'Artois" in content
    assert "CPAM du Var" not in content


def test_an_agent_of_one_caisse_gets_no_caisse_filter(client):
    caisse = CaisseFactory(name="CPAM du Nord")
    partner_with_access(caisse=caisse)
    partner_with_access(caisse=CaisseFactory(name="CPAM du Var"))
    agent = UserFactory(agent=True, caisse=caisse)
    agent.groups.add(sync_agent_group())
    verified_login(client, agent)
    response = client.get(reverse("admin:conventions_conventionmetier_changelist"))
    assert [spec.title for spec in response.context["cl"].filter_specs if spec.has_output()] == ["état"]
    assert "CPAM du Var" not in response.content.decode()
