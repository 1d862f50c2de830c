"""Work queues in a French browser (issue 13; the context's locale is fr-FR, see conftest): demo.technicien sees the
caisse's new answer on the home page and a "Nouveau" badge in the history, opens the request, and the mark is
gone for him; demo.agent inserts a canned reply (réponse type) in his answer in one action and sends it. axe on
the partner's pages."""

import re

from playwright.sync_api import expect

from requests_app.models import Demande, DemandeKind, Message, Side
from tests.e2e.test_agent_triage import admin_sign_in, label

TECHNICIEN = "demo.technicien"
AGENT = "demo.agent"
CANNED = "Pièce justificative manquante"


def contact_request() -> Demande:
    return Demande.objects.get(kind=DemandeKind.CONTACT)


def test_d7_technicien_sees_the_new_answer_on_home_opens_it_and_the_mark_disappears(demo_data, login, page, axe):
    assert page.evaluate("navigator.language") == "fr-FR"
    demande = contact_request()
    login(TECHNICIEN)
    block = page.locator("#bloc-nouveau")
    expect(block.get_by_role("heading", name="Nouvelles réponses de la caisse")).to_be_visible()
    expect(block.get_by_role("link", name=re.compile(r"^1 demande\b"))).to_be_visible()
    expect(block.get_by_role("link", name=demande.reference)).to_be_visible()
    axe(page)

    block.get_by_role("link", name=re.compile(r"^1 demande\b")).click()
    expect(page).to_have_url("/demandes/?suivi=non_lues")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=demande.reference))
    expect(row.get_by_text("Nouveau", exact=True)).to_be_visible()
    axe(page)

    row.get_by_role("link", name=demande.reference).click()
    expect(page.get_by_text("le dossier est en cours d'examen")).to_be_visible()

    page.goto("/")
    expect(block.get_by_text("Aucune réponse ni changement depuis votre dernière visite.")).to_be_visible()
    expect(block.get_by_role("link", name=re.compile(r"^0 demande\b"))).to_be_visible()
    page.goto("/demandes/")
    expect(page.get_by_text("Nouveau", exact=True)).to_have_count(0)


def test_d7_agent_inserts_a_canned_reply_in_one_action_and_sends_it(demo_data, pass_gates, settings, page):
    demande = Demande.objects.get(kind=DemandeKind.ETUDE_DOSSIER)
    admin_sign_in(page, pass_gates, settings, AGENT)
    page.goto(f"/admin/requests_app/demande/{demande.pk}/change/")
    page.get_by_role("link", name="Répondre au partenaire").click()

    page.get_by_label(label("Réponse type")).select_option(label=CANNED)  # the one action
    message = page.get_by_label(label("Message"))
    expect(message).to_have_value(re.compile(r"^Bonjour, il manque une pièce pour traiter la demande"))
    message.press("End")
    message.type(" Merci.")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()

    expect(page.locator("ul.messagelist")).to_contain_text("Réponse envoyée")
    sent = Message.objects.get(demande=demande, side=Side.CAISSE)
    assert sent.body.startswith("Bonjour, il manque une pièce") and sent.body.endswith("Merci.")
