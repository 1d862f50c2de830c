"""The work queues (issue 13): per-user read marks, the partner's home blocks, the history's "Nouveau" badge and
"Suivi" filter, the agent's unread partner messages (D7, D8). Marks are per user; queries are bounded."""

import uuid
from datetime import date, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import sync_agent_group
from requests_app import queue, services
from requests_app.models import Demande, DemandeKind, DemandeLecture, DemandeState, Side, unread_q
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def convention():
    return partner_with_access()


@pytest.fixture
def partenaire(convention):
    return convention.convention_metier.partenaire


@pytest.fixture
def caisse(convention):
    return convention.convention_metier.caisse


@pytest.fixture
def technicien(partenaire):
    return UserFactory(partenaire=partenaire)


@pytest.fixture
def agent(caisse):
    user = UserFactory(agent=True, caisse=caisse)
    user.groups.add(sync_agent_group())
    return user


def file_one(technicien, **fields):
    values = {
        "assure_civilite": "m",
        "assure_last_name": "Lefèvre",
        "assure_first_name": "Noé",
        "assure_birth_date": date(1990, 5, 1),
        "assure_departement": "59",
        **fields,
    }
    caisse = technicien.partenaire.conventions_metier.get().caisse
    return services.submit_demande(
        user=technicien,
        caisse=caisse,
        kind=DemandeKind.CONTACT,
        fields=values,
        message="Bonjour",
        form_token=uuid.uuid4(),
    )


def unread_for(user):
    return set(Demande.objects.visible_to(user).filter(unread_q(user)).values_list("reference", flat=True))


# --- Read marks -------------------------------------------------------------------------------------------


def test_d7_a_request_filed_and_untouched_by_the_caisse_is_not_new_to_the_structure(technicien, partenaire):
    file_one(technicien)
    colleague = UserFactory(partenaire=partenaire)
    assert unread_for(technicien) == set() and unread_for(colleague) == set()


def test_d7_an_answer_is_new_to_each_user_of_the_structure_until_that_user_opens_it(
    client, technicien, partenaire, agent
):
    demande = file_one(technicien)
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    services.answer(demande, agent=agent, body="Pouvez-vous préciser la date d'arrivée ?")
    # Never opened since: new for the technicien who filed it and for the gestionnaire who never opened it.
    assert unread_for(technicien) == {demande.reference} == unread_for(gestionnaire)

    verified_login(client, technicien)
    assert client.get(reverse("demande_detail", args=[demande.reference])).status_code == 200
    assert unread_for(technicien) == set()
    assert unread_for(gestionnaire) == {demande.reference}  # marks are per user
    assert DemandeLecture.objects.filter(demande=demande).count() == 1

    services.change_state(demande, DemandeState.EN_ATTENTE, by=agent)  # a move by the caisse is news again
    assert unread_for(technicien) == {demande.reference}


def test_d7_an_internal_note_or_an_assignment_is_no_news_to_the_structure(client, technicien, agent):
    demande = file_one(technicien)
    services.answer(demande, agent=agent, body="À rappeler lundi.", internal=True)
    services.assign([demande], agent, by=agent)
    assert unread_for(technicien) == set()


def test_d7_the_structures_own_reply_moving_the_request_back_is_no_news_to_it(client, technicien, agent):
    demande = file_one(technicien)
    services.answer(demande, agent=agent, body="Il manque un justificatif.", new_state=DemandeState.EN_ATTENTE)
    services.record_read(demande, technicien)
    services.add_message(demande, author=technicien, body="Le voici.")  # en attente → en cours, by the partner
    demande.refresh_from_db()
    assert demande.state == DemandeState.EN_COURS
    assert unread_for(technicien) == set()
    # For the caisse it is: the partner's message since the agent last opened the request.
    assert unread_for(agent) == {demande.reference}


def test_d7_a_change_older_than_the_horizon_is_no_longer_new(settings, technicien, agent):
    settings.DEMANDE_UNREAD_DAYS = 30
    demande = file_one(technicien)
    services.answer(demande, agent=agent, body="Dossier reçu.")
    Demande.objects.filter(pk=demande.pk).update(caisse_changed_at=timezone.now() - timedelta(days=31))
    assert unread_for(technicien) == set()


def test_d7_the_migration_fills_each_sides_last_change_from_the_thread_and_the_history(technicien, agent):
    demande = file_one(technicien)
    services.answer(demande, agent=agent, body="Dossier reçu.", new_state=DemandeState.EN_COURS)
    Demande.objects.filter(pk=demande.pk).update(caisse_changed_at=None, partner_changed_at=None)
    import_module("requests_app.migrations.0009_work_queue").last_changes(apps, connection.schema_editor())
    demande.refresh_from_db()
    answer = demande.messages.get(side=Side.CAISSE)
    assert demande.caisse_changed_at == max(answer.created_at, demande.changes.last().at)
    assert demande.partner_changed_at == demande.messages.get(side=Side.PARTENAIRE).created_at


# --- The partner's home -------------------------------------------------------------------------------------


def demande_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries if 'FROM "requests_app_demande"' in q["sql"]]


def world(convention, technicien, agent, n=1):
    """n requests of each kind of block, and as many the queue does not show."""
    now = timezone.now()
    made = {"attente": [], "nouveau": [], "retard": []}
    for i in range(n):
        made["attente"].append(
            DemandeFactory(
                convention=convention, filed_by=technicien, en_attente=True, created_at=now - timedelta(hours=i + 1)
            )
        )
        answered = DemandeFactory(convention=convention, filed_by=technicien, traitee=True)
        Demande.objects.filter(pk=answered.pk).update(caisse_changed_at=now - timedelta(minutes=i))
        made["nouveau"].append(answered)
        made["retard"].append(
            DemandeFactory(convention=convention, filed_by=technicien, created_at=now - timedelta(days=40 + i))
        )
        DemandeFactory(convention=convention, filed_by=technicien)  # just sent: in no block
    return made


@pytest.mark.parametrize("profile", ["technicien", "gestionnaire"])
def test_d8_home_lists_what_waits_for_the_structure_what_is_new_and_what_is_late(
    client, convention, partenaire, technicien, agent, profile
):
    made = world(convention, technicien, agent, n=2)
    user = technicien if profile == "technicien" else UserFactory(gestionnaire=True, partenaire=partenaire)
    verified_login(client, user)
    response = client.get(reverse("home"))
    blocks = {block.slug: block for block in response.context["queue"]}
    # En attente, oldest first; nouvelles réponses, most recent first; en retard, oldest first.
    assert [d.reference for d in blocks["en-attente"].rows] == [d.reference for d in made["attente"][::-1]]
    assert [d.reference for d in blocks["nouveau"].rows] == [d.reference for d in made["nouveau"]]
    assert [d.reference for d in blocks["en-retard"].rows] == [d.reference for d in made["retard"][::-1]]
    assert {block.count for block in blocks.values()} == {2}
    content = response.content.decode()
    for url in (
        reverse("demandes") + "?state=en_attente",
        reverse("demandes") + "?suivi=non_lues",
        reverse("demandes") + "?suivi=en_retard",
    ):
        assert f'href="{url}"' in content
    assert made["nouveau"][0].reference in content


def test_d8_home_costs_one_query_per_block_whatever_the_volume(client, convention, technicien, agent, monkeypatch):
    verified_login(client, technicien)
    world(convention, technicien, agent, n=1)
    _, few = demande_queries(client, reverse("home"))
    world(convention, technicien, agent, n=8)
    monkeypatch.setattr(queue, "COUNT_CAP", 6)
    response, many = demande_queries(client, reverse("home"))
    assert len(few) == len(many) == 3
    assert all("LIMIT 7" in sql for sql in many)  # a count never reads more than the cap and one row
    blocks = {block.slug: block for block in response.context["queue"]}
    assert len(blocks["nouveau"].rows) == queue.SHOWN
    assert blocks["nouveau"].capped and "plus de 6 demandes" in response.content.decode()


# --- The history ------------------------------------------------------------------------------------------


def test_d8_history_marks_new_answers_and_filters_them(client, convention, technicien, agent):
    made = world(convention, technicien, agent, n=2)
    verified_login(client, technicien)
    response = client.get(reverse("demandes"))
    rows = {d.reference: d.is_unread for d in response.context["page"]}
    assert {ref for ref, unread in rows.items() if unread} == {d.reference for d in made["nouveau"]}
    assert response.content.decode().count("fr-badge--new") == 2

    response = client.get(reverse("demandes") + "?suivi=non_lues")
    assert [d.reference for d in response.context["page"]] == [d.reference for d in made["nouveau"]]
    client.get(reverse("demande_detail", args=[made["nouveau"][0].reference]))
    response = client.get(reverse("demandes") + "?suivi=non_lues")
    assert [d.reference for d in response.context["page"]] == [made["nouveau"][1].reference]

    response = client.get(reverse("demandes") + "?suivi=en_retard")
    assert {d.reference for d in response.context["page"]} == {d.reference for d in made["retard"]}


def test_d8_history_badge_costs_no_query_per_row(client, convention, technicien, agent):
    verified_login(client, technicien)
    world(convention, technicien, agent, n=1)
    _, few = demande_queries(client, reverse("demandes"))
    world(convention, technicien, agent, n=5)
    _, many = demande_queries(client, reverse("demandes"))
    assert len(few) == len(many)


# --- The agent ----------------------------------------------------------------------------------------------


def test_d7_agent_dashboard_counts_unread_partner_messages_on_his_requests(client, convention, technicien, agent):
    mine, other = file_one(technicien), file_one(technicien)
    services.assign([mine], agent, by=agent)
    services.assign([other], UserFactory(agent=True, caisse=agent.caisse), by=agent)
    verified_login(client, agent)

    def card():
        cards = {
            label: (count, url) for label, count, url in client.get(reverse("admin:index")).context["queues"]["cards"]
        }
        return cards["Messages de partenaires non lus sur mes demandes"]

    count, url = card()
    assert count == 1
    listed = client.get(url).context["cl"].result_list
    assert [d.reference for d in listed] == [mine.reference]

    client.get(reverse("admin:requests_app_demande_change", args=[mine.pk]))  # opening marks it read
    assert card()[0] == 0
    services.add_message(mine, author=technicien, body="Un complément.")
    assert card()[0] == 1
