"""P7 in the browser: demo.technicien reports a problem with a screenshot from the footer's "Signaler un problème";
demo.referent (the CPAM de Roubaix-Tourcoing's "Chargé de mission Accès aux droits et aux soins", a referent with
an agent's account) answers it in the back-office and transmits it to national support; demo.admin answers from
the national queue; the referent passes the answer on and resolves it; the technicien reads the answer. axe on
the partner's pages.
"""

import re
from urllib.parse import quote

from playwright.sync_api import expect

from requests_app.models import Ticket, TicketMessage, TicketSide, TicketState
from tests.requests_app import files

TECHNICIEN = "demo.technicien"
REFERENT = "demo.referent"
NATIONAL = "demo.admin"
DESCRIPTION = "La page de l'historique reste blanche après un filtre par caisse."
QUESTION = "Merci : nous vérifions. Le problème apparaît-il aussi sur un autre poste ?"
NOTE = "Reproduit sur deux postes de la caisse : le filtre par caisse de l'historique ne répond plus."
NATIONAL_ANSWER = "Anomalie corrigée dans la version du 2 décembre : rechargez la page (Ctrl+F5)."


def label(start: str):
    return re.compile(rf"^\s*{re.escape(start)}")


def admin_sign_in(page, pass_gates, settings, username: str):
    page.context.clear_cookies()
    page.goto("/admin/")
    expect(page).to_have_url(f"/connexion/?next={quote('/admin/', safe='')}")
    page.get_by_label(label("Identifiant")).fill(username)
    page.get_by_label(label("Mot de passe")).fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    pass_gates(username)
    expect(page).to_have_url("/admin/")
    return page


def open_ticket_action(page, ticket: Ticket, queue_link: str, action: str):
    page.get_by_role("link", name=queue_link).click()
    page.get_by_role("link", name=ticket.reference, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/requests_app/ticket/{ticket.pk}/change/"))
    page.get_by_role("link", name=action).click()


def test_p7_report_answer_escalate_national_answer_back_to_the_technicien(
    page, demo_data, private_media, upload_dir, clamd_address, pass_gates, login, settings, axe
):
    # The technicien reports from the footer of its home page, with a screenshot.
    login(TECHNICIEN)
    page.get_by_role("contentinfo").get_by_role("link", name="Signaler un problème").click()
    expect(page).to_have_url("/assistance/signaler/?from=/")
    expect(page.get_by_label(label("Page ou service concerné"))).to_have_value("/")
    expect(page.get_by_role("main")).to_contain_text("Aucune donnée d'une personne accompagnée")
    axe(page)
    page.get_by_label(label("Page ou service concerné")).fill("/demandes/")
    page.get_by_text("Dysfonctionnement du portail", exact=True).click()
    page.get_by_label(label("Description du problème")).fill(DESCRIPTION)
    screenshot = upload_dir / "capture-historique.png"
    screenshot.write_bytes(files.png())
    page.get_by_label(label("Captures d'écran")).set_input_files(screenshot)
    page.get_by_role("button", name="Envoyer le signalement").click()
    ticket = Ticket.objects.exclude(description__startswith="Comment joindre").get()
    expect(page).to_have_url(f"/assistance/{ticket.reference}/")
    expect(page.get_by_role("main")).to_contain_text(f"Votre signalement {ticket.reference} est transmis")
    assert ticket.attachments.get().original_name == "capture-historique.png"
    assert ticket.user_agent and ticket.page == "/demandes/"
    axe(page)

    # The referent answers in the back-office, then transmits it to national support.
    admin_sign_in(page, pass_gates, settings, REFERENT)
    open_ticket_action(page, ticket, "Problèmes signalés par les partenaires, non résolus", "Répondre au partenaire")
    page.get_by_label(label("Réponse au partenaire")).fill(QUESTION)
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.locator("ul.messagelist")).to_contain_text("Votre réponse est envoyée au partenaire.")
    expect(page.get_by_role("link", name="capture-historique.png")).to_be_visible()
    page.get_by_role("link", name="Transmettre au support national").click()
    page.get_by_label(label("Note pour le support national")).fill(NOTE)
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.locator("ul.messagelist")).to_contain_text("Signalement transmis au support national.")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.TRANSMIS

    # National support answers from the national queue.
    admin_sign_in(page, pass_gates, settings, NATIONAL)
    open_ticket_action(
        page, ticket, "File nationale : problèmes transmis au support national", "Répondre (support national)"
    )
    page.get_by_label(label("Réponse du support national")).fill(NATIONAL_ANSWER)
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.locator("ul.messagelist")).to_contain_text("Réponse envoyée au référent")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.PRIS_EN_CHARGE

    # The referent passes it on (the form starts from national support's answer) and resolves the ticket.
    admin_sign_in(page, pass_gates, settings, REFERENT)
    open_ticket_action(page, ticket, "Problèmes signalés par les partenaires, non résolus", "Répondre au partenaire")
    expect(page.get_by_label(label("Réponse au partenaire"))).to_have_value(NATIONAL_ANSWER)
    page.get_by_label(label("Nouvel état")).select_option(label="Résolu")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.locator("ul.messagelist")).to_contain_text("Votre réponse est envoyée au partenaire.")
    answer = TicketMessage.objects.filter(ticket=ticket, side=TicketSide.CAISSE, internal=False).last()
    assert answer.body == NATIONAL_ANSWER

    # The technicien reads the answer; the escalation note never reaches it.
    page.context.clear_cookies()
    login(TECHNICIEN)
    page.goto("/assistance/")
    page.get_by_role("link", name=ticket.reference, exact=True).click()
    main = page.get_by_role("main")
    expect(main.get_by_role("article").filter(has_text=NATIONAL_ANSWER)).to_contain_text(
        "Référent de CPAM de Roubaix-Tourcoing"
    )
    expect(main).to_contain_text("Résolu")
    expect(main).not_to_contain_text(NOTE)
    axe(page)
