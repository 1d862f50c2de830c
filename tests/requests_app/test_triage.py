"""The caisse's triage of requests in the admin (D6, D7, P4), scoped to the agent's caisses."""

import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import sync_agent_group
from core.models import Action, JournalEntry
from requests_app import services
from requests_app.models import Demande, DemandeKind, DemandeState, Direction
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.files import pdf, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(private_media):
    return private_media


@pytest.fixture
def agent(client):
    user = UserFactory(agent=True)
    user.groups.add(sync_agent_group())
    verified_login(client, user)
    return user


@pytest.fixture
def convention(agent):
    return partner_with_access(caisse=agent.caisse)


@pytest.fixture
def technicien(convention):
    return UserFactory(partenaire=convention.convention_metier.partenaire, email="tech@structure.example")


def file_one(technicien, kind=DemandeKind.CONTACT, **fields):
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
        user=technicien, caisse=caisse, kind=kind, fields=values, message="Bonjour", form_token=uuid.uuid4()
    )


def answer_url(demande):
    return reverse("admin:requests_app_demande_action", args=[demande.pk, "repondre"])


def test_d7_agent_answers_moves_the_state_and_the_partner_is_told(
    client, agent, technicien, django_capture_on_commit_callbacks
):
    demande = file_one(technicien)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(answer_url(demande), {"body": "Dossier reçu, nous l'étudions.", "new_state": "en_cours"})
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.state == DemandeState.EN_COURS
    assert demande.messages.filter(side="caisse").get().body == "Dossier reçu, nous l'étudions."
    (message,) = mail.outbox
    assert message.to == ["tech@structure.example"] and demande.reference in message.body
    assert "Lefèvre" not in message.body


def test_d7_transition_not_in_the_table_is_refused_and_changes_nothing(client, agent, technicien):
    demande = file_one(technicien)
    services.change_state(demande, DemandeState.TRAITEE, by=agent)
    changelist = reverse("admin:requests_app_demande_changelist")
    response = client.post(changelist, {"action": "move_to_en_cours", "_selected_action": [demande.pk]}, follow=True)
    assert "ne peut pas passer" in response.content.decode()
    demande.refresh_from_db()
    assert demande.state == DemandeState.TRAITEE
    assert demande.changes.states().count() == 2


def test_d6_outgoing_document_to_a_partner_not_habilite_is_refused(agent, technicien):
    demande = file_one(technicien)
    with pytest.raises(ValidationError, match="pas habilitée à recevoir des documents"):
        services.answer(
            demande,
            agent=agent,
            body="Voici l'attestation",
            files=[upload("attestation.pdf", pdf(), "application/pdf")],
        )
    assert not demande.messages.filter(side="caisse").exists()
    assert not demande.pieces.filter(direction=Direction.SORTANTE).exists()


def test_d6_outgoing_document_reaches_a_habilite_partner(client, agent, technicien, clamd_address):
    partenaire = technicien.partenaire
    partenaire.can_receive_documents = True
    partenaire.save()
    demande = file_one(technicien, kind=DemandeKind.DOCUMENT, document_type="attestation_droits", delivery="partenaire")
    response = client.post(
        answer_url(demande),
        {
            "body": "Voici l'attestation.",
            "new_state": "traitee",
            "files": upload("attestation.pdf", pdf(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    piece = demande.pieces.get(direction=Direction.SORTANTE)
    verified_login(client, technicien)
    download = client.get(reverse("piece_download", args=[demande.reference, piece.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_d7_internal_note_is_never_shown_to_the_partner(client, agent, technicien):
    demande = file_one(technicien)
    client.post(answer_url(demande), {"body": "Voir avec le service PUMa", "internal": "on"})
    verified_login(client, technicien)
    page = client.get(reverse("demande_detail", args=[demande.reference])).content.decode()
    assert "Voir avec le service PUMa" not in page


def test_d1_rendez_vous_answer_sets_the_date_and_the_place(client, agent, technicien):
    slot = timezone.now() + timedelta(days=5)
    demande = file_one(
        technicien,
        kind=DemandeKind.RENDEZ_VOUS,
        reason="Ouverture de droits",
        modality="sur_place",
        slot_1=slot,
        worker_attends=True,
    )
    moment = (timezone.localtime(slot)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        answer_url(demande),
        {
            "body": "Rendez-vous confirmé.",
            "appointment_at": moment,
            "appointment_place": "Accueil de Roubaix, guichet 3",
        },
    )
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.appointment_place == "Accueil de Roubaix, guichet 3" and demande.appointment_at is not None


def test_p4_opening_a_request_in_the_admin_is_journaled(client, agent, technicien):
    demande = file_one(technicien)
    assert client.get(reverse("admin:requests_app_demande_change", args=[demande.pk])).status_code == 200
    assert JournalEntry.objects.filter(action=Action.DEMANDE_READ, actor=agent, target_id=str(demande.pk)).exists()


def test_d7_assign_to_me_and_unassigned_queue(client, agent, technicien):
    first, second = file_one(technicien), file_one(technicien)
    changelist = reverse("admin:requests_app_demande_changelist")
    client.post(changelist, {"action": "assign_to_me", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.assigned_to == agent
    unassigned = client.get(changelist, {"agent": "personne"}).context["cl"].result_list
    assert [d.pk for d in unassigned] == [second.pk]


def test_d7_overdue_filter_uses_working_days_per_kind(client, agent, technicien, settings):
    settings.DEMANDE_PROCESSING_DAYS = {**settings.DEMANDE_PROCESSING_DAYS, "contact": 5}
    with time_machine.travel(date(2026, 11, 2), tick=False):
        old = file_one(technicien)
    recent = file_one(technicien)
    changelist = reverse("admin:requests_app_demande_changelist")
    late = client.get(changelist, {"retard": "oui"}).context["cl"].result_list
    assert [d.pk for d in late] == [old.pk]
    assert recent.pk not in [d.pk for d in late]


def test_d8_admin_search_ignores_accents_and_case(client, agent, technicien):
    demande = file_one(technicien)
    changelist = reverse("admin:requests_app_demande_changelist")
    assert [d.pk for d in client.get(changelist, {"q": "LEFEVRE"}).context["cl"].result_list] == [demande.pk]
    assert [d.pk for d in client.get(changelist, {"q": demande.reference}).context["cl"].result_list] == [demande.pk]


def test_changelist_and_dashboard_run_a_fixed_number_of_queries(
    client, agent, technicien, django_assert_max_num_queries
):
    changelist = reverse("admin:requests_app_demande_changelist")
    for _ in range(5):
        file_one(technicien)
    client.get(changelist)
    for _ in range(40):
        file_one(technicien)
    with django_assert_max_num_queries(20):
        response = client.get(changelist)
    assert len(response.context["cl"].result_list) == 45
    with django_assert_max_num_queries(20):
        client.get(reverse("admin:index"))


def test_export_of_the_selected_requests(client, agent, technicien):
    demande = file_one(technicien)
    response = client.post(
        reverse("admin:requests_app_demande_changelist"), {"action": "export_csv", "_selected_action": [demande.pk]}
    )
    content = b"".join(response.streaming_content).decode()
    assert demande.reference in content


def test_bad_answers_never_give_a_500(client, agent, technicien):
    demande = file_one(technicien)
    for payload in ({}, {"body": ""}, {"body": "x", "new_state": "inconnu"}, {"body": "1 84 03 59 350 123 59"}):
        assert client.post(answer_url(demande), payload).status_code == 200
    assert Demande.objects.get(pk=demande.pk).state == DemandeState.ENVOYEE


def test_d7_assign_to_another_agent_of_the_caisse(client, agent, technicien):
    demande = file_one(technicien)
    colleague = UserFactory(agent=True, caisse=agent.caisse)
    stranger = UserFactory(agent=True)
    url = reverse("admin:requests_app_demande_action", args=[demande.pk, "attribuer"])
    assert client.post(url, {"agent": stranger.pk}).status_code == 200  # not an agent of this caisse
    assert client.post(url, {"agent": colleague.pk}).status_code == 302
    demande.refresh_from_db()
    assert demande.assigned_to == colleague


def test_d6_a_document_posted_anyway_for_a_partner_not_habilite_is_refused(client, agent, technicien):
    demande = file_one(technicien)
    response = client.post(
        answer_url(demande),
        {"body": "Voici l'attestation", "files": upload("attestation.pdf", pdf(), "application/pdf")},
    )
    assert response.status_code == 200
    assert "pas habilitée à recevoir des documents" in response.content.decode()
    assert not demande.messages.filter(side="caisse").exists()


def test_a7_the_admin_password_change_is_the_portals(client, agent):
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302 and response.url == reverse("password_change")
