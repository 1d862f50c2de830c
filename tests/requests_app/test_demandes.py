"""D1–D9 on the partner side: filing the five requests, the insured, history, thread, states, reading."""

import io
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from accounts.models import Profile
from conventions import services as convention_services
from core.models import Action, JournalEntry
from requests_app import services
from requests_app.models import Demande, DemandeKind, DemandeState, Direction, PieceJointe
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access

pytestmark = pytest.mark.django_db


def clean_pdf(name="justificatif.pdf") -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


@pytest.fixture(autouse=True)
def _private_media(private_media):
    return private_media


@pytest.fixture
def convention():
    return partner_with_access()


@pytest.fixture
def technicien(client, convention):
    user = UserFactory(partenaire=convention.convention_metier.partenaire, email="lea@structure.example")
    verified_login(client, user)
    return user


def new_url(convention, kind):
    return reverse("demande_new", args=[convention.convention_metier.caisse_id, kind])


def token_of(client, url):
    return client.get(url).context["form"].initial["form_token"]


INSURED = {
    "assure_civilite": "mme",
    "assure_last_name": "Dupré",
    "assure_first_name": "Éloïse",
    "assure_birth_date": "1984-03-12",
    "assure_departement": "59",
    "message": "Merci de nous rappeler.",
}
SLOT = (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
KIND_DATA = {
    DemandeKind.CONTACT: {},
    DemandeKind.ETUDE_DOSSIER: {"dossier_type": "css"},
    DemandeKind.SIGNALEMENT: {"nature": "renoncement", "urgency": "urgente"},
    DemandeKind.RENDEZ_VOUS: {
        "reason": "Ouverture de droits",
        "modality": "telephone",
        "slot_1": SLOT,
        "worker_attends": "oui",
    },
    DemandeKind.DOCUMENT: {"document_type": "attestation_droits", "delivery": "assure"},
}


def post_demande(client, convention, kind, **overrides):
    url = new_url(convention, kind)
    data = {**INSURED, **KIND_DATA[kind], "form_token": token_of(client, url), **overrides}
    return client.post(url, data)


@pytest.mark.parametrize("kind", list(DemandeKind))
def test_d1_d2_technicien_files_each_of_the_five_requests(client, convention, technicien, kind):
    response = post_demande(client, convention, kind, files=[clean_pdf()])
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    demande = Demande.objects.get()
    assert response.url == reverse("demande_detail", args=[demande.reference])
    assert (demande.kind, demande.state, demande.filed_by) == (kind, DemandeState.ENVOYEE, technicien)
    assert demande.messages.get().body == "Merci de nous rappeler."
    assert demande.pieces.get().original_name == "justificatif.pdf"
    assert demande.changes.states().get().new_value == DemandeState.ENVOYEE


def test_d2_gestionnaire_does_not_file(client, convention):
    gestionnaire = UserFactory(gestionnaire=True, partenaire=convention.convention_metier.partenaire)
    verified_login(client, gestionnaire)
    assert client.get(new_url(convention, "contact")).status_code == 403


def test_c5_disabled_service_is_hidden_and_refused(client, convention, technicien):
    convention.service_rendez_vous = False
    convention_services.save_convention_utilisation(convention)
    choose = client.get(reverse("demande_choose")).content.decode()
    assert "Demander un rendez-vous pour un assuré" not in choose
    assert "Demander un document" in choose
    response = client.post(new_url(convention, "rendez_vous"), {**INSURED, **KIND_DATA[DemandeKind.RENDEZ_VOUS]})
    assert response.status_code == 403
    assert not Demande.objects.exists()


def test_c7_caisse_without_access_is_refused(client, technicien):
    other = CaisseFactory()
    assert client.get(reverse("demande_new", args=[other.pk, "contact"])).status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("assure_birth_date", (date.today() + timedelta(days=1)).isoformat(), "dans le futur"),
        ("assure_departement", "20", "Sélectionnez un choix valide"),
        ("assure_departement", "977", "Sélectionnez un choix valide"),
        ("assure_last_name", "", "Ce champ est obligatoire"),
    ],
)
def test_d3_insured_is_validated_and_what_was_typed_is_kept(client, convention, technicien, field, value, message):
    response = post_demande(client, convention, DemandeKind.CONTACT, **{field: value})
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "Merci de nous rappeler." in content
    assert not Demande.objects.exists()


@pytest.mark.parametrize("departement", ["2A", "2B", "971", "976", "01", "95"])
def test_d3_corsica_and_overseas_departements_are_accepted(client, convention, technicien, departement):
    assert post_demande(client, convention, DemandeKind.CONTACT, assure_departement=departement).status_code == 302


def test_d3_no_nir_field_anywhere(client, convention, technicien):
    for kind in DemandeKind:
        form = client.get(new_url(convention, kind)).context["form"]
        assert not [name for name in form.fields if "nir" in name.lower() or "secu" in name.lower()]


def test_d4_nir_in_the_message_is_refused_and_the_form_kept(client, convention, technicien):
    response = post_demande(client, convention, DemandeKind.CONTACT, message="Son numéro : 1 84 03 59 350 123 59")
    assert response.status_code == 200
    assert "NIR" in response.content.decode()
    assert not Demande.objects.exists()


def test_d5_accepted_file_is_kept_while_another_field_is_corrected(client, convention, technicien):
    url = new_url(convention, DemandeKind.CONTACT)
    token = token_of(client, url)
    first = client.post(url, {**INSURED, "assure_last_name": "", "form_token": token, "files": [clean_pdf()]})
    assert first.status_code == 200
    assert "justificatif.pdf" in first.content.decode()
    second = client.post(url, {**INSURED, "form_token": token})
    assert second.status_code == 302
    assert Demande.objects.get().pieces.count() == 1


def test_d5_double_submission_files_one_request(client, convention, technicien):
    url = new_url(convention, DemandeKind.CONTACT)
    data = {**INSURED, "form_token": token_of(client, url)}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.url == second.url
    assert Demande.objects.count() == 1


def test_d6_only_a_habilite_partner_may_ask_to_receive_the_document(client, convention, technicien):
    response = post_demande(client, convention, DemandeKind.DOCUMENT, delivery="partenaire")
    assert response.status_code == 200
    assert not Demande.objects.exists()
    partenaire = technicien.partenaire
    partenaire.can_receive_documents = True
    partenaire.save()
    assert post_demande(client, convention, DemandeKind.DOCUMENT, delivery="partenaire").status_code == 302


def file_one(technicien, convention, kind=DemandeKind.CONTACT, **fields):
    import uuid

    values = {
        "assure_civilite": "mme",
        "assure_last_name": "Dupré",
        "assure_first_name": "Éloïse",
        "assure_birth_date": date(1984, 3, 12),
        "assure_departement": "59",
        **fields,
    }
    return services.submit_demande(
        user=technicien,
        caisse=convention.convention_metier.caisse,
        kind=kind,
        fields=values,
        message="Bonjour",
        form_token=uuid.uuid4(),
    )


def test_d7_references_are_unique_and_not_sequential(convention, technicien):
    references = {file_one(technicien, convention).reference for _ in range(20)}
    assert len(references) == 20
    assert all(ref.startswith("EP-") and len(ref) == 15 for ref in references)


def test_d7_transitions_follow_the_table_and_are_recorded(convention, technicien, django_capture_on_commit_callbacks):
    demande = file_one(technicien, convention)
    agent = UserFactory(agent=True, caisse=convention.convention_metier.caisse)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_state(demande, DemandeState.EN_ATTENTE, by=agent)
    demande.refresh_from_db()
    assert demande.state == DemandeState.EN_ATTENTE
    services.add_message(demande, author=technicien, body="Voici le complément.")
    demande.refresh_from_db()
    assert demande.state == DemandeState.EN_COURS
    services.change_state(demande, DemandeState.TRAITEE, by=agent)
    with pytest.raises(Exception, match="ne peut pas passer"):
        services.change_state(demande, DemandeState.EN_COURS, by=agent)
    assert [c.new_value for c in demande.changes.states()] == ["envoyee", "en_attente", "en_cours", "traitee"]
    (message,) = mail.outbox
    assert demande.reference in message.body and "/demandes/" in message.body
    assert "Dupré" not in message.body and "Éloïse" not in message.body and "Dupré" not in message.subject


def test_d8_history_lists_the_structure_and_searches_without_accents(client, convention, technicien):
    mine = file_one(technicien, convention)
    colleague = UserFactory(partenaire=technicien.partenaire)
    file_one(colleague, convention, assure_last_name="Martin")
    stranger = partner_with_access()
    file_one(UserFactory(partenaire=stranger.convention_metier.partenaire), stranger)
    listing = client.get(reverse("demandes"))
    assert listing.context["page"].paginator.count == 2
    found = client.get(reverse("demandes"), {"q": "dupre"})
    assert [d.pk for d in found.context["page"]] == [mine.pk]
    assert client.get(reverse("demandes"), {"q": mine.reference.lower()}).context["page"].paginator.count == 1
    assert client.get(reverse("demandes"), {"state": "traitee"}).context["page"].paginator.count == 0


def test_d8_history_runs_a_fixed_number_of_queries(client, convention, technicien, django_assert_max_num_queries):
    for _ in range(30):
        file_one(technicien, convention)
    with django_assert_max_num_queries(14):
        client.get(reverse("demandes"))
    for _ in range(30):
        file_one(technicien, convention)
    with django_assert_max_num_queries(14):
        client.get(reverse("demandes"))


def test_d8_history_export_is_csv_for_a_french_spreadsheet(client, convention, technicien):
    demande = file_one(technicien, convention)
    content = b"".join(client.get(reverse("demandes_export")).streaming_content).decode("utf-8")
    assert content.startswith("\ufeffRéférence;Type;Caisse")
    assert demande.reference in content and "Dupré" in content


def test_d8_another_structures_request_is_not_found(client, convention, technicien):
    stranger = partner_with_access()
    other = file_one(UserFactory(partenaire=stranger.convention_metier.partenaire), stranger)
    assert client.get(reverse("demande_detail", args=[other.reference])).status_code == 404


def test_d9_ended_convention_keeps_requests_readable_but_closed_to_new_messages(client, convention, technicien):
    demande = file_one(technicien, convention)
    metier = convention.convention_metier
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        verified_login(client, technicien)
        convention_services.end_convention_metier(metier, terminated_on=timezone.localdate(), reason="Fin")
        page = client.get(reverse("demande_detail", args=[demande.reference]))
        assert page.status_code == 200
        assert "plus aucun message ne peut y être envoyé" in page.content.decode()
        response = client.post(
            reverse("demande_reply", args=[demande.reference]),
            {"body": "Encore une question", "form_token": "6f1c1d5e-0000-4000-8000-000000000000"},
        )
        assert response.status_code == 403
        assert client.get(new_url(convention, "contact")).status_code == 403


def test_a1_d9_who_may_not_write_on_a_request_is_refused_before_any_file_is_kept(client, convention, technicien):
    """A1: the structure's gestionnaire reads its requests (D8) but writes nothing in them; D9: nothing new goes
    to a closed request. The reply is refused (403) whatever the form holds, before its files are checked and
    stored — not after, with the file kept for a message that will never be sent."""
    demande = file_one(technicien, convention)
    gestionnaire = UserFactory(gestionnaire=True, partenaire=convention.convention_metier.partenaire)
    url = reverse("demande_reply", args=[demande.reference])

    def post_reply(body):
        return client.post(url, {"body": body, "form_token": str(uuid.uuid4()), "files": [clean_pdf()]})

    verified_login(client, gestionnaire)
    assert client.get(reverse("demande_detail", args=[demande.reference])).status_code == 200
    assert post_reply("").status_code == 403  # not the page again, with its message "required"
    services.change_state(demande, DemandeState.CLOTUREE, by=UserFactory(agent=True, caisse=demande.caisse))
    verified_login(client, technicien)
    assert post_reply("Voici le complément.").status_code == 403
    assert not PieceJointe.objects.filter(demande__isnull=True).exists()  # nothing staged for a later message
    assert demande.messages.count() == 1


def test_p4_reading_a_request_and_its_attachment_is_journaled(client, convention, technicien):
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    demande = Demande.objects.get()
    client.get(response.url)
    assert JournalEntry.objects.filter(action=Action.DEMANDE_READ, target_id=str(demande.pk), actor=technicien).exists()
    piece = demande.pieces.get()
    download = client.get(reverse("piece_download", args=[demande.reference, piece.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert JournalEntry.objects.filter(action=Action.PIECE_JOINTE_READ, actor=technicien).exists()


def test_d6_outgoing_documents_only_for_habilite_partners(client, convention, technicien):
    demande = file_one(technicien, convention)
    agent = UserFactory(agent=True, caisse=convention.convention_metier.caisse)
    piece = PieceJointe.objects.create(
        demande=demande,
        direction=Direction.SORTANTE,
        uploaded_by=agent,
        file="x.pdf",
        original_name="attestation.pdf",
        mime="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    assert client.get(reverse("piece_download", args=[demande.reference, piece.pk])).status_code == 404
    assert agent.profile == Profile.AGENT


def test_d5_scanner_down_refuses_the_file_and_keeps_the_form(client, convention, technicien, settings):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CLAMD_PORT = sock.getsockname()[1]
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    assert response.status_code == 200
    content = response.content.decode()
    assert "réessayez dans quelques minutes" in content
    assert 'value="Dupré"' in content and "Merci de nous rappeler." in content
    assert not Demande.objects.exists() and not PieceJointe.objects.exists()


def test_d5_infected_file_is_refused_and_nothing_of_it_is_kept(
    client, convention, technicien, clamd_address, private_media
):
    from tests.requests_app.files import pdf_with_eicar, upload

    infected = upload("releve.pdf", pdf_with_eicar(), "application/pdf")
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[infected])
    assert response.status_code == 200
    assert "virus" in response.content.decode()
    assert not PieceJointe.objects.exists()
    assert not [path for path in private_media.rglob("*") if path.is_file()]


def test_d5_a_form_posted_twice_with_its_file_keeps_one_copy(client, convention, technicien, private_media):
    url = new_url(convention, DemandeKind.CONTACT)
    token = token_of(client, url)
    for _ in range(2):
        client.post(url, {**INSURED, "form_token": token, "files": [clean_pdf()]})
    assert Demande.objects.count() == 1 and PieceJointe.objects.count() == 1
    assert len([path for path in private_media.rglob("*") if path.is_file()]) == 1


def test_d5_a_reload_after_a_refusal_does_not_stage_the_file_twice(client, convention, technicien):
    url = new_url(convention, DemandeKind.CONTACT)
    token = token_of(client, url)
    for _ in range(2):
        client.post(url, {**INSURED, "assure_last_name": "", "form_token": token, "files": [clean_pdf()]})
    assert PieceJointe.objects.filter(staged_token=token).count() == 1


def test_p5_refusal_and_missing_pages_are_in_french(client, convention, technicien):
    denied = client.get(reverse("demande_new", args=[CaisseFactory().pk, "contact"]))
    assert denied.status_code == 403
    assert "Accès refusé" in denied.content.decode() and 'lang="fr"' in denied.content.decode()
    missing = client.get(reverse("demande_detail", args=["EP-00-AAAA-AAAA"]))
    assert missing.status_code == 404 and "Page introuvable" in missing.content.decode()
