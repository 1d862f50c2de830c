"""D1, D2, D4, D5, D8, P4, P5 in the browser: demo.technicien of the CCAS de Wattrelos files each of the five
requests to the CPAM de Roubaix-Tourcoing with an attachment, finds it in the history by the insured's name typed
without accents, opens it and downloads the attachment; an infected file and a NIR or a health term in the message
are refused in French with the form kept; a file accepted once stays while the form is corrected; the gestionnaire
reads the history but does not file; a service the caisse switched off is hidden and refused. axe on every page.

The live server shares the process's settings: attachments go to a temporary private storage, and the health
lexicon (flushed with the rest of the database by live_server tests) is loaded where health terms are tested.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from conventions import services as convention_services
from conventions.models import Caisse, ConventionUtilisation
from core.models import Action, JournalEntry
from core.text import fold
from requests_app import services
from requests_app.models import Demande, DemandeKind, DemandeState, PieceJointe
from tests.requests_app import files

CAISSE = "CPAM de Roubaix-Tourcoing"
TECHNICIEN = "demo.technicien"
GESTIONNAIRE = "demo.gestionnaire"
MESSAGE = "Merci de rappeler la personne au sujet de sa situation, elle est disponible le matin."
NAV = "Menu principal"


def label(start: str):
    """DSFR labels end with the required marker " *": match their start."""
    return re.compile(rf"^\s*{re.escape(start)}")


@pytest.fixture
def demo_data(demo_data):
    """The demo data without its sample requests: these journeys count the structure's requests."""
    Demande.objects.all().delete()


@pytest.fixture
def filing(demo_data, private_media, clamd_address, login):
    """demo.technicien, signed in through the real forms, on the home page."""
    return login(TECHNICIEN)


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def technicien() -> User:
    return User.objects.get(username=TECHNICIEN)


def caisse() -> Caisse:
    return Caisse.objects.get(name=CAISSE)


# --- The insured and the kind-specific fields ---------------------------------------------------------------


@dataclass
class Insured:
    civilite: str  # "Madame" | "Monsieur"
    last_name: str  # with an accent: the history is searched without it
    first_name: str
    birth_date: date
    departement: str

    @property
    def folded_last_name(self) -> str:
        return fold(self.last_name)


def slot(days: int, hour: int) -> str:
    """A future slot as a datetime-local input takes it (the server's local time)."""
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=30, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def click_choice(page, group: str, choice: str):
    """DSFR radio buttons: click the label of the choice, inside the fieldset named by its legend."""
    page.get_by_role("group", name=label(group)).get_by_text(choice, exact=True).click()
    expect(page.get_by_role("group", name=label(group)).get_by_label(choice, exact=True)).to_be_checked()


def fill_contact(page):
    pass


def fill_etude_dossier(page):
    click_choice(page, "Dossier à étudier", "Complémentaire santé solidaire")


def fill_signalement(page):
    click_choice(page, "Nature de la difficulté", "Difficulté dans les démarches administratives")
    click_choice(page, "Urgence", "Urgente")


def fill_rendez_vous(page):
    page.get_by_label(label("Motif du rendez-vous")).fill("Ouverture de droits après un déménagement")
    click_choice(page, "Modalité", "Par téléphone")
    page.get_by_label(label("Créneau souhaité")).fill(slot(7, 9))
    page.get_by_label(label("Autre créneau possible")).fill(slot(8, 14))
    click_choice(page, "Serez-vous présent(e) au rendez-vous ?", "Oui")


def fill_document(page):
    click_choice(page, "Document demandé", "Attestation de droits")
    expect(
        page.get_by_role("group", name=label("Envoi du document")).get_by_label(
            "À l'adresse connue de l'assuré", exact=True
        )
    ).to_be_checked()


@dataclass
class Case:
    kind: DemandeKind
    insured: Insured
    fill: Callable
    attachment: tuple[str, bytes, str]  # name, content, MIME type
    summary: list[str] = field(default_factory=list)  # what the detail page shows of the kind's fields


CASES = [
    Case(
        DemandeKind.CONTACT,
        Insured("Madame", "Lefèvre", "Hélène", date(1984, 3, 12), "59"),
        fill_contact,
        ("justificatif-domicile.pdf", files.pdf(), "application/pdf"),
    ),
    Case(
        DemandeKind.ETUDE_DOSSIER,
        Insured("Monsieur", "Ménard", "Benoît", date(1991, 7, 2), "62"),
        fill_etude_dossier,
        ("avis-imposition.pdf", files.pdf(2), "application/pdf"),
        ["Complémentaire santé solidaire"],
    ),
    Case(
        DemandeKind.SIGNALEMENT,
        Insured("Madame", "Châtelain", "Françoise", date(1958, 11, 23), "59"),
        fill_signalement,
        ("courrier-scanne.jpg", files.jpeg(), "image/jpeg"),
        ["Difficulté dans les démarches administratives (urgence : urgente)"],
    ),
    Case(
        DemandeKind.RENDEZ_VOUS,
        Insured("Monsieur", "Santoni-Pérès", "Ange", date(1975, 5, 30), "2A"),  # Corsica: 2A
        fill_rendez_vous,
        ("attestation-hebergement.png", files.png(), "image/png"),
        ["Ouverture de droits après un déménagement — Par téléphone", "présence du travailleur social : oui"],
    ),
    Case(
        DemandeKind.DOCUMENT,
        Insured("Madame", "Gérard", "Anaïs", date(2001, 1, 9), "59"),
        fill_document,
        ("piece-identite.pdf", files.pdf(), "application/pdf"),
        ["Attestation de droits — à l'adresse connue de l'assuré"],
    ),
]


def fill_insured(page, insured: Insured):
    click_choice(page, "Civilité", insured.civilite)
    page.get_by_label(label("Nom de naissance ou d'usage")).fill(insured.last_name)
    page.get_by_label(label("Prénom")).fill(insured.first_name)
    page.get_by_label(label("Date de naissance")).fill(f"{insured.birth_date:%d/%m/%Y}")  # typed, JJ/MM/AAAA
    page.get_by_label(label("Département de résidence")).select_option(insured.departement)


def attach(page, folder, name: str, content: bytes):
    path = folder / name
    path.write_bytes(content)
    page.get_by_label(label("Pièces jointes")).set_input_files(path)


def submit(page):
    page.get_by_role("button", name="Envoyer la demande", exact=True).click()


def filed_demande(page, **lookup) -> Demande:
    """Once the browser is on the new request's page (not before: the click does not wait for the server)."""
    expect(page).to_have_url(re.compile(r"/demandes/EP-[0-9A-Z-]+/$"))
    return Demande.objects.get(**lookup)


def open_form(page, kind: DemandeKind, axe=None):
    """From the navigation: "Nouvelle demande", then the kind's tile in the CPAM de Roubaix-Tourcoing's section."""
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Nouvelle demande", exact=True).click()
    expect(page).to_have_url("/demandes/nouvelle/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle demande")
    if axe:
        axe(page)
    page.get_by_role("region", name=CAISSE).get_by_role("link", name=kind.label, exact=True).click()
    expect(page).to_have_url(f"/demandes/nouvelle/{caisse().pk}/{kind.value}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(kind.label)
    expect(page.get_by_text(CAISSE, exact=True)).to_be_visible()
    if axe:
        axe(page)


def file_other_demande() -> Demande:
    """Another request of the structure, for another insured: the search must leave it out."""
    return services.submit_demande(
        user=technicien(),
        caisse=caisse(),
        kind=DemandeKind.CONTACT,
        fields={
            "assure_civilite": "m",
            "assure_last_name": "Martin",
            "assure_first_name": "Paul",
            "assure_birth_date": date(1970, 6, 15),
            "assure_departement": "59",
        },
        message="Merci de nous rappeler.",
        form_token=uuid.uuid4(),
    )


# --- D1, D8, P4, P5: each of the five requests, end to end ---------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.kind.value for case in CASES])
def test_d1_technicien_files_each_of_the_five_requests_with_an_attachment(filing, private_media, upload_dir, axe, case):
    page = filing
    other = file_other_demande()
    name, content, mime = case.attachment
    insured = case.insured

    open_form(page, case.kind, axe)
    fill_insured(page, insured)
    case.fill(page)
    page.get_by_label(label("Votre message")).fill(MESSAGE)
    attach(page, upload_dir, name, content)
    submit(page)

    # The detail page: reference, success message, the insured, the kind's fields, the message, the attachment.
    demande = filed_demande(page, assure_last_name=insured.last_name)
    assert (demande.kind, demande.state, demande.caisse, demande.filed_by) == (
        case.kind,
        DemandeState.ENVOYEE,
        caisse(),
        technicien(),
    )
    assert (demande.assure_last_name, demande.assure_first_name, demande.assure_departement) == (
        insured.last_name,
        insured.first_name,
        insured.departement,
    )
    expect(page).to_have_url(f"/demandes/{demande.reference}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(case.kind.label)
    expect(page.get_by_text(f"Votre demande {demande.reference} est envoyée à la caisse.")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"Référence{demande.reference}")
    née = "née" if insured.civilite == "Madame" else "né"
    expect(main).to_contain_text(
        f"{insured.civilite} {insured.first_name} {insured.last_name}, {née} le "
        f"{insured.birth_date:%d/%m/%Y}, département {insured.departement}"
    )
    for text in case.summary:
        expect(main).to_contain_text(text)
    expect(main).to_contain_text(MESSAGE)
    download_link = main.get_by_role("link", name=f"{name} (télécharger)", exact=True)
    expect(download_link).to_be_visible()
    axe(page)
    piece = PieceJointe.objects.get(demande=demande)
    assert (piece.original_name, piece.mime, piece.size, piece.staged_token) == (name, mime, len(content), None)
    assert len(stored_files(private_media)) == 1
    assert name not in piece.file.name  # stored under a random name

    # D8: the history lists both requests of the structure; the search without the accent finds this one only.
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Historique des demandes", exact=True).click()
    expect(page).to_have_url("/demandes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")
    table = page.get_by_role("table", name=re.compile(r"^Demandes"))
    expect(table.locator("caption")).to_have_text("Demandes (2)")
    expect(table.get_by_role("link", name=demande.reference, exact=True)).to_be_visible()
    expect(table.get_by_role("link", name=other.reference, exact=True)).to_be_visible()
    axe(page)

    search = insured.folded_last_name.upper() if case.kind == DemandeKind.ETUDE_DOSSIER else insured.folded_last_name
    assert search != insured.last_name
    page.get_by_label("Référence ou nom de l'assuré").fill(search)
    page.get_by_role("button", name="Filtrer", exact=True).click()
    expect(page).to_have_url(re.compile(r"/demandes/\?.*q="))
    expect(table.locator("caption")).to_have_text("Demandes (1)")
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name=demande.reference, exact=True))
    expect(row).to_contain_text(f"{insured.last_name} {insured.first_name}")
    expect(row).to_contain_text(case.kind.label)
    expect(row).to_contain_text("Envoyée")
    expect(table.get_by_role("link", name=other.reference, exact=True)).to_have_count(0)
    expect(page.get_by_label("Référence ou nom de l'assuré")).to_have_value(search)
    axe(page)

    # The CSV export of the filtered list: this request only. Its button shows its label, not just an icon.
    export = page.get_by_role("link", name="Exporter la liste (CSV)", exact=True)
    assert export.evaluate("link => link.scrollWidth <= link.clientWidth"), "libellé du bouton d'export masqué"
    with page.expect_download() as export_info:
        export.click()
    exported = export_info.value.path().read_text(encoding="utf-8-sig")
    assert demande.reference in exported
    assert f"{insured.last_name};{insured.first_name}" in exported
    assert other.reference not in exported

    # Open it from the history, download the attachment: the same bytes, sent as an attachment.
    row.get_by_role("link", name=demande.reference, exact=True).click()
    expect(page).to_have_url(f"/demandes/{demande.reference}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(case.kind.label)
    with page.expect_download() as download_info:
        page.get_by_role("main").get_by_role("link", name=f"{name} (télécharger)", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == name
    assert download.path().read_bytes() == content

    # P4: every read of the request and of its attachment is journaled, by whom.
    reads = JournalEntry.objects.filter(action=Action.DEMANDE_READ, target_id=str(demande.pk), actor=technicien())
    assert reads.count() == 2  # after filing, then from the history
    downloads = JournalEntry.objects.filter(action=Action.PIECE_JOINTE_READ, target_id=str(demande.pk))
    assert [(entry.actor, entry.details) for entry in downloads] == [(technicien(), {"piece_jointe": piece.pk})]


# --- D5: attachments -----------------------------------------------------------------------------------------


def test_d5_infected_file_is_refused_and_the_form_is_kept(filing, private_media, upload_dir, axe):
    page = filing
    insured = CASES[0].insured
    open_form(page, DemandeKind.CONTACT)
    fill_insured(page, insured)
    page.get_by_label(label("Votre message")).fill(MESSAGE)
    attach(page, upload_dir, "facture.pdf", files.pdf_with_eicar())
    submit(page)

    expect(page).to_have_url(f"/demandes/nouvelle/{caisse().pk}/contact/")
    files_input = page.get_by_label(label("Pièces jointes"))
    expect(files_input).to_have_attribute("aria-invalid", "true")
    expect(files_input).to_have_accessible_description(
        re.compile(r"Pièce jointe « facture\.pdf » refusée : le fichier contient un virus")
    )
    # What was typed is kept.
    expect(page.get_by_label(label("Nom de naissance ou d'usage"))).to_have_value(insured.last_name)
    expect(page.get_by_label(label("Prénom"))).to_have_value(insured.first_name)
    expect(page.get_by_label(label("Date de naissance"))).to_have_value(f"{insured.birth_date:%d/%m/%Y}")
    expect(page.get_by_label(label("Département de résidence"))).to_have_value(insured.departement)
    expect(page.get_by_role("group", name=label("Civilité")).get_by_label("Madame", exact=True)).to_be_checked()
    expect(page.get_by_label(label("Votre message"))).to_have_value(MESSAGE)
    expect(page.get_by_text("Fichiers déjà acceptés pour ce formulaire")).to_have_count(0)
    axe(page)

    # Nothing filed, nothing of the file kept.
    assert not Demande.objects.exists()
    assert not PieceJointe.objects.exists()
    assert stored_files(private_media) == []


def test_d5_accepted_file_stays_while_the_form_is_corrected(filing, private_media, upload_dir, axe):
    page = filing
    insured = CASES[0].insured
    open_form(page, DemandeKind.CONTACT)
    fill_insured(page, insured)
    page.get_by_label(label("Nom de naissance ou d'usage")).fill("")
    page.get_by_label(label("Votre message")).fill(MESSAGE)
    attach(page, upload_dir, "justificatif.pdf", files.pdf())
    submit(page)

    # Refused on the name only; the file is already accepted and listed.
    expect(page).to_have_url(f"/demandes/nouvelle/{caisse().pk}/contact/")
    last_name = page.get_by_label(label("Nom de naissance ou d'usage"))
    expect(last_name).to_have_attribute("aria-invalid", "true")
    expect(last_name).to_have_accessible_description(re.compile("Ce champ est obligatoire"))
    staged = page.get_by_text("Fichiers déjà acceptés pour ce formulaire").locator("..")
    expect(staged).to_contain_text("justificatif.pdf")
    expect(page.get_by_label("Retirer ce fichier")).not_to_be_checked()
    expect(page.get_by_label(label("Prénom"))).to_have_value(insured.first_name)
    expect(page.get_by_label(label("Votre message"))).to_have_value(MESSAGE)
    axe(page)
    assert not Demande.objects.exists()
    assert PieceJointe.objects.filter(demande__isnull=True).count() == 1

    # Corrected, sent again without attaching the file again: filed with it.
    last_name.fill(insured.last_name)
    submit(page)
    demande = filed_demande(page)
    expect(page).to_have_url(f"/demandes/{demande.reference}/")
    expect(page.get_by_text(f"Votre demande {demande.reference} est envoyée à la caisse.")).to_be_visible()
    expect(
        page.get_by_role("main").get_by_role("link", name="justificatif.pdf (télécharger)", exact=True)
    ).to_be_visible()
    assert demande.assure_last_name == insured.last_name
    assert [piece.original_name for piece in demande.pieces.all()] == ["justificatif.pdf"]
    assert len(stored_files(private_media)) == 1


# --- D4: the free-text guard ----------------------------------------------------------------------------------


def nir_with_spaces() -> tuple[str, str]:
    """A NIR with a valid key, written in its usual groups, and how the refusal masks it."""
    body = "2910775123456"  # a woman born in July 1991 in Paris
    key = 97 - int(body) % 97
    nir = f"{body}{key:02d}"
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    return spaced, f"{nir[0]} {nir[1:3]} {nir[3:5]} ** *** *** **"


def test_d4_nir_and_health_term_are_refused_in_the_message(filing, health_lexicon, private_media, upload_dir, axe):
    page = filing
    insured = CASES[1].insured
    open_form(page, DemandeKind.CONTACT)
    fill_insured(page, insured)
    message = page.get_by_label(label("Votre message"))
    # A short reminder of the rule stands beside the field.
    reminder = page.locator(".fr-input-group", has=message)
    expect(reminder).to_contain_text(re.compile(r"N'indiquez ni (le )?NIR"))
    expect(reminder).to_contain_text("santé")

    spaced, masked = nir_with_spaces()
    typed = f"Son numéro de sécurité sociale est le {spaced}, merci de le rappeler."
    message.fill(typed)
    submit(page)
    expect(page).to_have_url(f"/demandes/nouvelle/{caisse().pk}/contact/")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(message).to_have_accessible_description(
        re.compile(rf"numéro de sécurité sociale \(NIR\) : « {re.escape(masked)} »")
    )
    expect(message).to_have_accessible_description(re.compile("La convention d'utilisation interdit d'indiquer le NIR"))
    expect(message).to_have_value(typed)
    expect(page.get_by_label(label("Nom de naissance ou d'usage"))).to_have_value(insured.last_name)
    axe(page)
    assert not Demande.objects.exists()

    typed = "La personne suit une chimiothérapie et ne peut pas se déplacer."
    message.fill(typed)
    submit(page)
    expect(page).to_have_url(f"/demandes/nouvelle/{caisse().pk}/contact/")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(message).to_have_accessible_description(
        re.compile(r"donnée de santé \(traitement\) : « [Cc]himiothérapie »")
    )
    expect(message).to_have_accessible_description(re.compile("aucune donnée de santé"))
    expect(message).to_have_value(typed)
    assert not Demande.objects.exists()

    ordinary = "Demande de Complémentaire santé solidaire, rendez-vous pour des soins"
    message.fill(ordinary)
    submit(page)
    demande = filed_demande(page)
    expect(page).to_have_url(f"/demandes/{demande.reference}/")
    expect(page.get_by_role("main")).to_contain_text(ordinary)
    assert demande.messages.get().body == ordinary


# --- D2: the gestionnaire reads, the technicien files ---------------------------------------------------------


def test_d2_gestionnaire_sees_the_history_but_cannot_file(demo_data, login, axe):
    filed = file_other_demande()  # by demo.technicien
    page = login(GESTIONNAIRE)
    nav = page.get_by_role("navigation", name=NAV)
    expect(nav.get_by_role("link", name="Nouvelle demande", exact=True)).to_have_count(0)

    nav.get_by_role("link", name="Historique des demandes", exact=True).click()
    expect(page).to_have_url("/demandes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")
    table = page.get_by_role("table", name=re.compile(r"^Demandes"))
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name=filed.reference, exact=True))
    expect(row).to_contain_text("Martin Paul")
    expect(row).to_contain_text("Léa Fontaine")
    expect(page.get_by_role("main").get_by_role("link", name="Nouvelle demande", exact=True)).to_have_count(0)
    axe(page)
    row.get_by_role("link", name=filed.reference, exact=True).click()
    expect(page).to_have_url(f"/demandes/{filed.reference}/")
    expect(page.get_by_role("heading", name="Répondre")).to_have_count(0)
    axe(page)

    page.goto("/demandes/nouvelle/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle demande")
    expect(page.get_by_text("Les demandes sont déposées par les techniciens de la structure.")).to_be_visible()
    expect(page.get_by_role("region", name=CAISSE).get_by_role("link")).to_have_count(0)
    axe(page)

    response = page.goto(f"/demandes/nouvelle/{caisse().pk}/contact/")
    assert response.status == 403
    assert Demande.objects.count() == 1


# --- C5: a service the caisse switched off -----------------------------------------------------------------


def test_c5_disabled_service_is_hidden(demo_data, login, axe):
    convention = ConventionUtilisation.objects.get(
        convention_metier__caisse__name=CAISSE, convention_metier__partenaire__name="CCAS de Wattrelos"
    )
    convention.service_rendez_vous = False
    convention_services.save_convention_utilisation(convention)
    rendez_vous = DemandeKind.RENDEZ_VOUS.label

    page = login(TECHNICIEN)
    expect(page.get_by_role("link", name=rendez_vous)).to_have_count(0)  # the home page's list of services
    expect(page.get_by_role("link", name=DemandeKind.CONTACT.label, exact=True)).to_be_visible()

    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Nouvelle demande", exact=True).click()
    section = page.get_by_role("region", name=CAISSE)
    for kind in DemandeKind:
        expected = 0 if kind == DemandeKind.RENDEZ_VOUS else 1
        expect(section.get_by_role("link", name=kind.label, exact=True)).to_have_count(expected)
    expect(page.get_by_text(rendez_vous)).to_have_count(0)
    axe(page)

    response = page.goto(f"/demandes/nouvelle/{caisse().pk}/rendez_vous/")
    assert response.status == 403
    assert page.goto(f"/demandes/nouvelle/{caisse().pk}/document/").status == 200
    assert not Demande.objects.exists()
