"""The gestionnaire's pages (A6, A10–A13): French refusals, typed input kept, nothing half-created."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountState, GestionnaireRequest, InactivationReason, Profile, User
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


def test_a16_accounts_table_is_paged_searched_and_filtered(client, gestionnaire, django_assert_max_num_queries):
    """A big structure has hundreds of accounts: 50 a page, in a constant number of queries, searched by name,
    identifier or email and filtered by profile and state; the export still gives them all."""
    partenaire = gestionnaire.partenaire
    UserFactory.create_batch(59, partenaire=partenaire, state=AccountState.ACTIF)
    UserFactory(
        partenaire=partenaire,
        last_name="Quillevère",
        first_name="Léa",
        state=AccountState.INACTIVE,
        inactivated_at=timezone.now(),
        inactivation_reason=InactivationReason.LEFT_STRUCTURE,
    )
    url = reverse("accounts_list")
    with django_assert_max_num_queries(25):
        first = client.get(url)
    rows = first.context["page"]
    assert (len(rows), rows.paginator.count, rows.paginator.num_pages) == (50, 61, 2)
    assert "Comptes de la structure (61)" in first.content.decode() and "Page suivante" in first.content.decode()
    with django_assert_max_num_queries(25):
        second = client.get(url, {"page": 2})
    assert len(second.context["page"]) == 11
    shown = {a.pk for a in first.context["page"]} | {a.pk for a in second.context["page"]}
    assert len(shown) == 61  # every account once, none twice across the pages

    found = client.get(url, {"q": "quillevère léa"}).context["page"]
    assert [a.last_name for a in found] == ["Quillevère"]
    assert list(client.get(url, {"q": gestionnaire.email.upper()}).context["page"]) == [gestionnaire]
    inactive = client.get(url, {"state": AccountState.INACTIVE}).context["page"]
    assert [a.last_name for a in inactive] == ["Quillevère"]
    gestionnaires = client.get(url, {"profile": Profile.GESTIONNAIRE}).context["page"]
    assert list(gestionnaires) == [gestionnaire]
    empty = client.get(url, {"q": "personne-de-ce-nom"})
    assert "Aucun compte ne correspond à la recherche." in empty.content.decode()
    assert "Tous les comptes" in empty.content.decode()

    export = client.get(reverse("accounts_export"))
    assert b"".join(export.streaming_content if export.streaming else [export.content]).count(b"\n") == 62


@pytest.mark.parametrize(
    "query", [{"page": "abc"}, {"page": "999"}, {"state": "supprime"}, {"profile": "agent"}, {"q": "x" * 500}]
)
def test_a16_accounts_table_bad_query_is_not_a_500(client, gestionnaire, query):
    """A page out of range or not a number shows a page; an unknown choice or a too long search says why in
    French and lists the accounts unfiltered."""
    response = client.get(reverse("accounts_list"), query)
    content = response.content.decode()
    assert response.status_code == 200 and gestionnaire.username in content
    if "page" not in query:
        assert "Sélectionnez un choix valide" in content or "au plus 100 caractères" in content
