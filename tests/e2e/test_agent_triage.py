"""D6, D7, A17 in the back-office: demo.agent of the CPAM de Roubaix-Tourcoing signs in to the Django admin
through the portal's login and its second factor, opens "Demandes sans agent" from the dashboard, takes the
oldest request, answers it with a document for the CCAS de Wattrelos (made habilité for the test); demo.technicien
then reads the answer in the thread and downloads the document, and was told by an email carrying the reference
only. Without the habilitation the answer form has no document field, and a crafted upload attaches nothing.
Without the second factor the admin stays closed. axe on every admin page used.

The live server shares the process's settings: documents go to a temporary private storage.
"""

import re
from datetime import timedelta
from urllib.parse import quote

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from conventions import services as convention_services
from conventions.models import Partenaire
from requests_app.models import Demande, DemandeKind, DemandeState, Direction, Message, PieceJointe, Side
from tests.requests_app import files

AGENT = "demo.agent"
TECHNICIEN = "demo.technicien"
CAISSE = "CPAM de Roubaix-Tourcoing"
PARTENAIRE = "CCAS de Wattrelos"
NAV = "Menu principal"
ANSWER = "Bonjour, vous trouverez ci-joint l'attestation de droits demandée pour la démarche de logement."
DOCUMENT_NAME = "attestation-droits.pdf"
DEMANDES_URL = "/admin/requests_app/demande/"


def label(start: str):
    """Django admin labels end with " :" (French), DSFR ones with " *": match their start."""
    return re.compile(rf"^\s*{re.escape(start)}")


def partenaire() -> Partenaire:
    return Partenaire.objects.get(name=PARTENAIRE)


def make_habilite():
    """The CCAS receives documents from now on (D6), through the service the admin uses."""
    structure = partenaire()
    structure.can_receive_documents = True
    convention_services.save_partenaire(structure)


def age_demo_requests() -> Demande:
    """The demo requests are filed within the same instant: give them distinct ages, the last filed (the
    attestation request) being the oldest, so that "oldest first" is not just the order of filing."""
    now = timezone.now()
    demandes = list(Demande.objects.order_by("pk"))
    assert [d.kind for d in demandes] == [DemandeKind.CONTACT, DemandeKind.ETUDE_DOSSIER, DemandeKind.DOCUMENT]
    for days, demande in zip([2, 1, 3], demandes, strict=True):
        Demande.objects.filter(pk=demande.pk).update(created_at=now - timedelta(days=days))
    return demandes[2]


def admin_sign_in(page, pass_gates, settings, username: str):
    """/admin/ → the portal's login (next=/admin/) → password → the second factor → the admin index."""
    page.goto("/admin/")
    expect(page).to_have_url(f"/connexion/?next={quote('/admin/', safe='')}")
    page.get_by_label(label("Identifiant")).fill(username)
    page.get_by_label(label("Mot de passe")).fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page).to_have_url(re.compile(r"/2fa/verification/\?next=%2Fadmin%2F$"))
    pass_gates(username)
    expect(page).to_have_url("/admin/")
    return page


def admin_messages(page):
    return page.locator("ul.messagelist")


# --- D7: take the oldest request, answer with a document; the technicien reads and downloads it ---------------


def test_d7_agent_takes_the_oldest_request_and_answers_with_a_document(
    page, demo_data, private_media, upload_dir, clamd_address, pass_gates, login, settings, mailoutbox, axe
):
    make_habilite()
    oldest = age_demo_requests()
    agent = User.objects.get(username=AGENT)
    technicien = User.objects.get(username=TECHNICIEN)

    # The admin opens on the dashboard's work queues.
    page = admin_sign_in(page, pass_gates, settings, AGENT)
    expect(page.get_by_role("heading", name="Files d'attente")).to_be_visible()
    queues = page.get_by_role("table", name="Ce qui attend la caisse")
    unassigned = queues.get_by_role("row").filter(has=page.get_by_role("link", name="Demandes sans agent"))
    expect(unassigned.get_by_role("cell")).to_have_text("3")
    axe(page)

    # "Demandes sans agent": the oldest first.
    unassigned.get_by_role("link", name="Demandes sans agent").click()
    expect(page).to_have_url(f"{DEMANDES_URL}?agent=personne")
    rows = page.locator("#result_list tbody tr")
    by_age = Demande.objects.order_by("created_at").values_list("reference", flat=True)
    expect(rows.locator("th")).to_have_text(list(by_age))  # the reference column, oldest first
    expect(rows.first.get_by_role("link", name=oldest.reference, exact=True)).to_be_visible()
    axe(page)

    rows.first.get_by_role("checkbox").check()
    page.get_by_label(label("Action")).select_option(label="M'attribuer les demandes sélectionnées")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(admin_messages(page)).to_contain_text("1 demande(s) vous sont attribuées.")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    oldest.refresh_from_db()
    assert oldest.assigned_to == agent
    assert Demande.objects.filter(assigned_to__isnull=True).count() == 2

    # Open it from the filter "agent en charge : Moi".
    page.get_by_role("link", name="Moi", exact=True).click()
    expect(page).to_have_url(re.compile(r"agent=moi"))
    page.get_by_role("link", name=oldest.reference, exact=True).click()
    change_page = re.compile(rf"{DEMANDES_URL}{oldest.pk}/change/(\?_changelist_filters=agent%3Dmoi)?$")
    expect(page).to_have_url(change_page)
    expect(page.get_by_role("heading", name=f"{oldest.reference} — Demander un document", exact=True)).to_be_visible()
    expect(page.locator("fieldset").first).to_contain_text("Agent en charge : Julie Vandamme (demo.agent)")
    # The thread and the state history: see test_d7_agent_sees_the_thread_and_the_state_history (a known bug).
    axe(page)

    # "Répondre au partenaire": a message, "Traitée", the attestation as a PDF.
    page.get_by_role("link", name="Répondre au partenaire").click()
    expect(page).to_have_url(f"{DEMANDES_URL}{oldest.pk}/action/repondre/")
    axe(page)
    page.get_by_label(label("Message")).fill(ANSWER)
    page.get_by_label(label("Nouvel état")).select_option(label="Traitée")
    document = files.pdf(2)
    path = upload_dir / DOCUMENT_NAME
    path.write_bytes(document)
    page.get_by_label(label("Document pour le partenaire")).set_input_files(path)
    mailoutbox.clear()
    page.get_by_role("button", name=re.compile("^Confirmer")).click()

    expect(page).to_have_url(change_page)
    expect(admin_messages(page)).to_contain_text("Réponse envoyée : le partenaire est prévenu par email.")
    expect(page.locator("fieldset").first).to_contain_text("État : Traitée")
    expect(page.get_by_role("link", name="Répondre au partenaire")).to_have_count(0)  # a final state

    oldest.refresh_from_db()
    assert oldest.state == DemandeState.TRAITEE
    answer = Message.objects.get(demande=oldest, side=Side.CAISSE)
    assert (answer.author, answer.internal, answer.body) == (agent, False, ANSWER)
    piece = PieceJointe.objects.get(message=answer)
    assert (piece.original_name, piece.direction, piece.size) == (DOCUMENT_NAME, Direction.SORTANTE, len(document))

    # The partner is told: an email with the reference, never the insured's name.
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert technicien.email in email.to
    text = f"{email.subject}\n{email.body}"
    assert oldest.reference in text
    for name in (oldest.assure_last_name, oldest.assure_first_name):
        assert name.casefold() not in text.casefold()

    # The admin's logout, then demo.technicien through the portal's login.
    page.get_by_role("button", name="Déconnexion").click()
    expect(page).to_have_url("/connexion/")  # LOGOUT_REDIRECT_URL: the portal's login
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter à l'Espace Partenaires")
    assert page.goto("/admin/").url.endswith(f"/connexion/?next={quote('/admin/', safe='')}")
    login(TECHNICIEN)
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Historique des demandes", exact=True).click()
    expect(page).to_have_url("/demandes/")
    page.get_by_role("link", name=oldest.reference, exact=True).click()
    expect(page).to_have_url(f"/demandes/{oldest.reference}/")
    main = page.get_by_role("main")
    caisse_answer = main.get_by_role("article").filter(has_text=ANSWER)
    expect(caisse_answer).to_contain_text(CAISSE)
    expect(main).to_contain_text("Traitée")
    link = caisse_answer.get_by_role("link", name=f"{DOCUMENT_NAME} (télécharger)", exact=True)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == DOCUMENT_NAME
    assert download.path().read_bytes() == document


def test_d7_agent_sees_the_thread_and_the_state_history(page, demo_data, pass_gates, settings, axe):
    demande = Demande.objects.get(kind=DemandeKind.DOCUMENT)
    admin_sign_in(page, pass_gates, settings, AGENT)
    page.goto(f"{DEMANDES_URL}{demande.pk}/change/")
    expect(page.get_by_role("heading", name=f"{demande.reference} — Demander un document", exact=True)).to_be_visible()
    thread = page.locator("fieldset").filter(has=page.get_by_role("heading", name=re.compile("^échanges", re.I)))
    expect(thread).to_contain_text("Attestation de droits demandée pour une démarche de logement.")
    history = page.locator("fieldset").filter(
        has=page.get_by_role("heading", name=re.compile("^historique de la demande", re.I))
    )
    expect(history).to_contain_text("Envoyée")
    axe(page)


# --- D6: no document for a partner not habilité -----------------------------------------------------------------


def test_d6_no_document_field_for_a_partner_not_habilite(page, demo_data, private_media, pass_gates, settings, axe):
    assert not partenaire().can_receive_documents
    demande = Demande.objects.get(kind=DemandeKind.CONTACT)
    admin_sign_in(page, pass_gates, settings, AGENT)

    page.goto(f"{DEMANDES_URL}{demande.pk}/change/")
    page.get_by_role("link", name="Répondre au partenaire").click()
    form_url = f"{DEMANDES_URL}{demande.pk}/action/repondre/"
    expect(page).to_have_url(form_url)
    expect(page.get_by_label(label("Message"))).to_be_visible()
    expect(page.get_by_label(label("Nouvel état"))).to_be_visible()
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_text("Document pour le partenaire")).to_have_count(0)
    axe(page)

    # A file posted anyway (a crafted request with the form's token): never a 500, and whatever becomes of the
    # message, no document reaches the request or the storage.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = page.request.post(
        form_url,
        multipart={
            "csrfmiddlewaretoken": token,
            "body": "Voici le document demandé.",
            "new_state": "",
            "files": {"name": DOCUMENT_NAME, "mimeType": "application/pdf", "buffer": files.pdf()},
        },
        headers={"Referer": page.url},
    )
    assert response.ok
    assert not PieceJointe.objects.filter(direction=Direction.SORTANTE).exists()
    assert not PieceJointe.objects.filter(demande=demande).exists()
    assert [p for p in private_media.rglob("*") if p.is_file()] == []


# --- A17: no admin with the password alone ----------------------------------------------------------------------


def test_a17_admin_requires_the_second_factor(page, demo_data, pass_gates, settings):
    demande = Demande.objects.order_by("pk").first()
    change_url = f"{DEMANDES_URL}{demande.pk}/change/"

    # Anonymous: the admin sends to the portal's login (the admin has no login form of its own).
    page.goto("/admin/")
    expect(page).to_have_url(f"/connexion/?next={quote('/admin/', safe='')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter à l'Espace Partenaires")
    page.goto(change_url)
    expect(page).to_have_url(f"/connexion/?next={quote(change_url, safe='')}")

    # The password only.
    page.get_by_label(label("Identifiant")).fill(AGENT)
    page.get_by_label(label("Mot de passe")).fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page).to_have_url(f"/2fa/verification/?next={quote(change_url, safe='')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification en deux étapes")

    # Nothing of the admin opens without the second step: every address leads to it.
    for address in ("/admin/", DEMANDES_URL, change_url, f"{change_url.removesuffix('change/')}action/repondre/"):
        page.goto(address)
        expect(page).to_have_url(f"/2fa/verification/?next={quote(address, safe='')}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Vérification en deux étapes")
        expect(page.get_by_text(demande.reference)).to_have_count(0)

    # The code, and the admin opens where the agent was going.
    pass_gates(AGENT)
    expect(page).to_have_url(f"{DEMANDES_URL}{demande.pk}/action/repondre/")
    expect(page.get_by_label(label("Message"))).to_be_visible()
