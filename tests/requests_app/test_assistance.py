"""P7 (convention art. 3.3 and 7): problems reported to the caisse's referent, escalated to national support and
answered back through the referent; scoping; the guard and the attachment checks; the caisse's information to
its partners until acknowledged."""

import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.permissions import sync_agent_group
from conventions.models import Referent
from core.models import Action, JournalEntry
from core.models.outbox import OutboxEmail
from requests_app import assistance
from requests_app.models import (
    InformationAcknowledgement,
    InformationPartenaire,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketState,
)
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, ReferentFactory, partner_with_access
from tests.requests_app import files
from tests.requests_app.guard_corpus import nir

pytestmark = pytest.mark.django_db

DESCRIPTION = "Le bouton « Envoyer » de la demande de rendez-vous ne répond pas depuis ce matin."


@pytest.fixture(autouse=True)
def _private_media(private_media, health_lexicon):
    """Private storage of the test's own, and the guard's lexicon whatever a transactional test left."""
    return private_media


@pytest.fixture
def convention():
    return partner_with_access(CaisseFactory(name="CPAM de Roubaix-Tourcoing"))


@pytest.fixture
def caisse(convention):
    return convention.convention_metier.caisse


@pytest.fixture
def technicien(convention):
    return UserFactory(partenaire=convention.convention_metier.partenaire, email="tech@structure.example")


@pytest.fixture
def referent(caisse):
    agent = UserFactory(agent=True, caisse=caisse, email="referent@cpam.example")
    agent.groups.add(sync_agent_group())
    ReferentFactory(caisse=caisse, agent=agent)
    return agent


@pytest.fixture
def administrateur():
    return UserFactory(administrateur=True, email="national@assurance-maladie.example")


def report(user, caisse, **kwargs):
    fields = {
        "category": TicketCategory.DYSFONCTIONNEMENT,
        "page": "/demandes/nouvelle/",
        "description": DESCRIPTION,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "form_token": uuid.uuid4(),
        **kwargs,
    }
    return assistance.report_problem(user=user, caisse=caisse, **fields)


def emails_text() -> str:
    return "\n".join(f"{e.subject}\n{e.body}" for e in OutboxEmail.objects.all())


# --- Reporting ------------------------------------------------------------------------------------------------


def test_p7_technicien_reports_with_a_screenshot_from_the_page_it_came_from(
    client, clamd_address, technicien, caisse, referent
):
    verified_login(client, technicien)
    form = client.get(reverse("ticket_report") + "?from=/demandes/nouvelle/")
    body = form.content.decode()
    assert form.status_code == 200
    assert 'value="/demandes/nouvelle/"' in body  # the page concerned, pre-filled
    assert "Aucune donnée d'une personne accompagnée" in body
    response = client.post(
        reverse("ticket_report"),
        {
            "caisse": caisse.pk,
            "category": TicketCategory.DYSFONCTIONNEMENT,
            "page": "/demandes/nouvelle/",
            "description": DESCRIPTION,
            "form_token": str(uuid.uuid4()),
            "files": [files.upload("capture.png", files.png(), "image/png")],
        },
        HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0",
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ticket_detail", args=[ticket.reference])
    assert ticket.state == TicketState.NOUVEAU and ticket.user_agent == "Mozilla/5.0 Firefox/128.0"
    assert ticket.page == "/demandes/nouvelle/" and ticket.partenaire_id == technicien.partenaire_id
    assert ticket.attachments.get().original_name == "capture.png"
    assert JournalEntry.objects.filter(action=Action.TICKET_REPORTED, actor=technicien).exists()
    # The referent is told: the reference and a link, never the description.
    (email,) = OutboxEmail.objects.all()
    assert email.recipients == "referent@cpam.example"
    assert ticket.reference in email.body and "/admin/requests_app/ticket/" in email.body
    assert "Envoyer" not in email.body
    detail = client.get(reverse("ticket_detail", args=[ticket.reference])).content.decode()
    assert DESCRIPTION.replace("«", "&laquo;")[:20] in detail or "Le bouton" in detail
    download = client.get(reverse("ticket_attachment", args=[ticket.reference, ticket.attachments.get().pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    download.close()


def test_p7_the_referer_fills_the_page_when_the_link_has_no_from(client, technicien):
    verified_login(client, technicien)
    body = client.get(reverse("ticket_report"), HTTP_REFERER="http://testserver/documentation/").content.decode()
    assert 'value="/documentation/"' in body
    body = client.get(reverse("ticket_report"), HTTP_REFERER="https://ailleurs.example/x/").content.decode()
    assert "ailleurs" not in body


def test_p7_gestionnaire_reports_too_agents_do_not(client, convention, caisse, referent):
    gestionnaire = UserFactory(gestionnaire=True, partenaire=convention.convention_metier.partenaire)
    assert report(gestionnaire, caisse).reported_by == gestionnaire
    with pytest.raises(PermissionDenied):
        report(referent, caisse)


def test_p7_only_one_of_the_structures_caisses(technicien):
    with pytest.raises(PermissionDenied):
        report(technicien, CaisseFactory())


def test_p7_same_form_token_twice_files_one_ticket(technicien, caisse):
    token = uuid.uuid4()
    assert report(technicien, caisse, form_token=token) == report(technicien, caisse, form_token=token)
    assert Ticket.objects.count() == 1


# --- The guard and the attachment checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [f"Le dossier de {nir('1850578006048')} ne s'affiche pas.", "La personne est suivie pour un cancer du sein."],
)
def test_p7_d4_the_guard_refuses_insured_data_in_the_description_and_keeps_the_text(client, technicien, caisse, text):
    verified_login(client, technicien)
    response = client.post(
        reverse("ticket_report"),
        {"caisse": caisse.pk, "category": TicketCategory.USAGE, "description": text, "form_token": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    assert response.context["form"].errors["description"]
    assert response.context["form"]["description"].value() == text  # what was typed stays


def test_p7_d4_the_guard_holds_in_the_service_and_on_every_message(technicien, caisse, referent):
    with pytest.raises(ValidationError):
        report(technicien, caisse, description=f"NIR {nir('1850578006048')}")
    ticket = report(technicien, caisse)
    with pytest.raises(ValidationError):
        assistance.answer(ticket, agent=referent, body="Rappelez la personne atteinte d'un diabète.")
    with pytest.raises(ValidationError):
        assistance.partner_reply(ticket, user=technicien, body=f"Son NIR : {nir('2840512115423')}")


def test_p7_d5_an_infected_screenshot_is_refused_and_nothing_is_kept(
    client, clamd_address, technicien, caisse, private_media
):
    verified_login(client, technicien)
    response = client.post(
        reverse("ticket_report"),
        {
            "caisse": caisse.pk,
            "category": TicketCategory.DYSFONCTIONNEMENT,
            "description": DESCRIPTION,
            "form_token": str(uuid.uuid4()),
            "files": [
                files.upload("saine.png", files.png(), "image/png"),
                files.upload("capture.png", files.with_eicar(files.png()), "image/png"),
            ],
        },
    )
    assert response.status_code == 200
    assert "capture.png" in " ".join(response.context["form"].errors["files"])
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()
    assert not [path for path in private_media.rglob("*") if path.is_file()]  # not even the clean one


@pytest.mark.parametrize(
    ("name", "content"),
    [("page.png", files.html), ("enorme.pdf", files.oversized)],
    ids=["html renamed png", "too large"],
)
def test_p7_d5_type_and_size_are_checked_like_requests(technicien, caisse, name, content, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        report(technicien, caisse, files=[files.upload(name, content())])
    assert name in str(refused.value)
    assert not Ticket.objects.exists()


def test_p7_d5_the_antivirus_unreachable_refuses_the_screenshot(technicien, caisse, settings):
    from tests.conftest import free_port

    settings.CLAMD_PORT = free_port()
    with pytest.raises(ValidationError):
        report(technicien, caisse, files=[files.upload("capture.png", files.png(), "image/png")])
    assert not Ticket.objects.exists()


# --- Thread, states, escalation -----------------------------------------------------------------------------


def test_p7_referent_answers_escalates_national_answers_back_through_the_referent(
    client, technicien, caisse, referent, administrateur
):
    ticket = report(technicien, caisse)
    assistance.take_charge(ticket, agent=referent)
    assistance.answer(
        ticket, agent=referent, body="Quel navigateur utilisez-vous ?", new_state=TicketState.ATTENTE_PARTENAIRE
    )
    assistance.partner_reply(ticket, user=technicien, body="Firefox, à jour.")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.PRIS_EN_CHARGE  # the partner's answer goes back to the referent
    assistance.escalate(ticket, agent=referent, note="Reproduit sur deux postes : anomalie du formulaire.")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.TRANSMIS and ticket.escalated_at
    with pytest.raises(PermissionDenied):
        assistance.national_answer(ticket, admin=referent, body="Non.")
    assistance.national_answer(ticket, admin=administrateur, body="Corrigé dans la version du 2 décembre.")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.PRIS_EN_CHARGE
    assert assistance.last_national_answer(ticket) == "Corrigé dans la version du 2 décembre."
    # Neither the escalation note nor national support's message reach the partner: the referent passes it on.
    verified_login(client, technicien)
    page = client.get(reverse("ticket_detail", args=[ticket.reference])).content.decode()
    assert "Reproduit sur deux postes" not in page and "version du 2 décembre" not in page
    assistance.answer(ticket, agent=referent, body="Corrigé dans la version du 2 décembre.", new_state="resolu")
    page = client.get(reverse("ticket_detail", args=[ticket.reference])).content.decode()
    assert "version du 2 décembre" in page and "Résolu" in page
    states = [
        e.details["to"]
        for e in JournalEntry.objects.filter(action=Action.TICKET_CHANGED).order_by("at", "id")
        if "to" in e.details
    ]
    assert states == ["pris_en_charge", "attente_partenaire", "pris_en_charge", "transmis", "pris_en_charge", "resolu"]
    text = emails_text()
    assert "national@assurance-maladie.example" in "".join(OutboxEmail.objects.values_list("recipients", flat=True))
    assert "Firefox" not in text and "Reproduit" not in text and "décembre" not in text  # links only
    with pytest.raises(ValidationError, match="ne peut pas passer"):
        assistance.take_charge(ticket, agent=referent)


def test_p7_the_partner_replies_on_its_page_a_resolved_ticket_takes_no_more(client, technicien, caisse, referent):
    ticket = report(technicien, caisse)
    verified_login(client, technicien)
    response = client.post(reverse("ticket_reply", args=[ticket.reference]), {"body": "Toujours bloqué."})
    assert response.status_code == 302
    assert ticket.messages.count() == 2
    assistance.resolve(ticket, agent=referent)
    assert client.post(reverse("ticket_reply", args=[ticket.reference]), {"body": "Encore"}).status_code == 403


def test_p7_referent_works_from_the_back_office_and_the_dashboard_counts(
    client, technicien, caisse, referent, administrateur
):
    ticket = report(technicien, caisse)
    verified_login(client, referent)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Problèmes signalés par les partenaires, non résolus" in index
    queue = client.get(reverse("admin:requests_app_ticket_changelist") + "?file=ouverts")
    assert [t.pk for t in queue.context["cl"].result_list] == [ticket.pk]
    change = client.get(reverse("admin:requests_app_ticket_change", args=[ticket.pk])).content.decode()
    assert "Transmettre au support national" in change and "Répondre (support national)" not in change
    action = reverse("admin:requests_app_ticket_action", args=[ticket.pk, "transmettre"])
    assert client.post(action, {"note": "À voir par le national."}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.TRANSMIS
    client.logout()
    verified_login(client, administrateur)
    national = client.get(reverse("admin:requests_app_ticket_changelist") + "?file=nationale")
    assert [t.pk for t in national.context["cl"].result_list] == [ticket.pk]
    assert "File nationale" in client.get(reverse("admin:index")).content.decode()
    action = reverse("admin:requests_app_ticket_action", args=[ticket.pk, "reponse-nationale"])
    assert client.post(action, {"body": "Corrigé."}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.PRIS_EN_CHARGE


# --- Scoping ------------------------------------------------------------------------------------------------------


def test_p7_scoping_an_agent_sees_its_caisses_tickets_a_partner_its_structures(client, technicien, caisse, referent):
    ticket = report(technicien, caisse)
    other_convention = partner_with_access()
    stranger = UserFactory(partenaire=other_convention.convention_metier.partenaire)
    other_agent = UserFactory(agent=True, caisse=other_convention.convention_metier.caisse)
    assert list(Ticket.objects.visible_to(stranger)) == []
    assert list(Ticket.objects.visible_to(other_agent)) == []
    assert list(Ticket.objects.visible_to(referent)) == [ticket]
    colleague = UserFactory(gestionnaire=True, partenaire=technicien.partenaire)
    assert list(Ticket.objects.visible_to(colleague)) == [ticket]
    with pytest.raises(PermissionDenied):
        assistance.answer(ticket, agent=other_agent, body="Bonjour")
    verified_login(client, stranger)
    assert client.get(reverse("ticket_detail", args=[ticket.reference])).status_code == 404
    assert ticket.reference not in client.get(reverse("tickets")).content.decode()


def test_p7_the_list_costs_a_fixed_number_of_queries(client, technicien, caisse, django_assert_max_num_queries):
    for _ in range(3):
        report(technicien, caisse)
    verified_login(client, technicien)
    client.get(reverse("tickets"))
    with django_assert_max_num_queries(14):
        body = client.get(reverse("tickets")).content.decode()
    assert body.count("AS-") >= 3


# --- The other way: the caisse informs its partners (art. 7) -------------------------------------------------


def test_p7_caisse_information_shows_on_the_home_page_until_acknowledged(client, technicien, caisse, referent):
    information = assistance.publish_information(
        InformationPartenaire(caisse=caisse, title="Délais allongés", body="Nos délais sont allongés cette semaine."),
        actor=referent,
    )
    assert JournalEntry.objects.filter(action=Action.INFORMATION_PUBLISHED).exists()
    colleague = UserFactory(gestionnaire=True, partenaire=technicien.partenaire)
    verified_login(client, technicien)
    assert "Délais allongés" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("information_acknowledge", args=[information.pk]))
    assert response.status_code == 302
    ack = InformationAcknowledgement.objects.get()
    assert ack.acknowledged_by == technicien and ack.acknowledged_at
    assert "Délais allongés" not in client.get(reverse("home")).content.decode()
    client.logout()
    verified_login(client, colleague)  # acknowledged for the structure
    assert "Délais allongés" not in client.get(reverse("home")).content.decode()


def test_p7_information_to_one_partner_is_not_shown_to_another(client, technicien, caisse, referent):
    other = partner_with_access(caisse)
    other_user = UserFactory(partenaire=other.convention_metier.partenaire)
    assistance.publish_information(
        InformationPartenaire(caisse=caisse, partenaire=technicien.partenaire, title="Votre compte", body="Info."),
        actor=referent,
    )
    assert assistance.informations_to_acknowledge(technicien).count() == 1
    assert assistance.informations_to_acknowledge(other_user).count() == 0
    with pytest.raises(PermissionDenied):
        assistance.publish_information(
            InformationPartenaire(caisse=CaisseFactory(), title="Ailleurs", body="Info."), actor=referent
        )
    assert not mail.outbox


def test_p7_c1_a_referent_account_is_an_agent_of_its_own_caisse(caisse, referent):
    other_agent = UserFactory(agent=True, caisse=CaisseFactory())
    row = Referent(caisse=caisse, position=9, full_name="Ana Roy", role="Référente", phone="0320000000")
    row.agent = other_agent
    with pytest.raises(ValidationError, match="agent de cette caisse"):
        row.full_clean()
    row.agent = referent
    row.full_clean()
    assert assistance.referent_emails(caisse.pk) == ["referent@cpam.example"]
