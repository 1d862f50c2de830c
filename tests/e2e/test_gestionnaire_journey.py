"""A4, A6, A12, A17 in the browser: the gestionnaire of the CCAS de Wattrelos, signed in through the real forms
(password, second factor, CGU), creates techniciens up to the quota, is refused the next one with a French
message and the form kept, inactivates a technicien, and can then create one more. axe on every page."""

import re
import unicodedata

from playwright.sync_api import expect

from accounts.models import AccountState, Profile, User
from conventions.models import Partenaire

DOMAIN = "ccas-wattrelos.example"
# Four new techniciens: with the demo's Léa Fontaine, five, the quota of a structure of 5 members.
TECHNICIENS = [
    ("Mme", "Durand", "Camille", "Conseillère en insertion"),
    ("M", "Lefort", "Hugo", "Médiateur numérique"),
    ("Mme", "Benoît", "Inès", "Assistante sociale"),
    ("M", "Carpentier", "Yanis", "Agent d'accueil"),
]
ONE_TOO_MANY = ("Mme", "Vasseur", "Élodie", "Travailleuse sociale")


def ascii_(name: str) -> str:
    return unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()


def label(start: str):
    """DSFR labels end with the required marker " *": match their start."""
    return re.compile(rf"^\s*{re.escape(start)}")


def fill_identity(page, civilite, last_name, first_name, job_title, email=None):
    # DSFR radios: the label is what the user clicks (it covers the native input).
    page.locator("label", has_text="Madame" if civilite == "Mme" else "Monsieur").click()
    page.get_by_label(label("Nom")).fill(last_name)
    page.get_by_label(label("Prénom")).fill(first_name)
    page.get_by_label(label("Fonction")).fill(job_title)
    page.get_by_label(label("Téléphone professionnel")).fill("03 20 75 00 00")
    page.get_by_label(label("Adresse email professionnelle")).fill(
        email or f"{ascii_(first_name)}.{ascii_(last_name)}@{DOMAIN}"
    )


def open_creation_form(page):
    page.get_by_role("main").get_by_role("link", name="Créer un compte technicien", exact=True).click()
    expect(page).to_have_url("/structure/comptes/nouveau-technicien/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte technicien")


def create_technicien(page, civilite, last_name, first_name, job_title):
    open_creation_form(page)
    fill_identity(page, civilite, last_name, first_name, job_title)
    page.get_by_role("button", name="Créer le compte").click()
    expect(page).to_have_url("/structure/comptes/")
    expect(page.get_by_text(f"Le compte de {first_name} {last_name} est créé")).to_be_visible()


def test_a4_a6_a12_gestionnaire_creates_techniciens_up_to_the_quota_then_frees_a_place(demo_data, login, axe):
    # A structure of 5 members may hold 5 techniciens (A4); the demo already has one, Léa Fontaine.
    assert Partenaire.objects.filter(name="CCAS de Wattrelos").update(member_count=5) == 1
    page = login("demo.gestionnaire")

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Comptes de la structure", exact=True
    ).click()
    expect(page).to_have_url("/structure/comptes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes de la structure")
    expect(page.get_by_text("1 compte invité ou actif sur 5 autorisés")).to_be_visible()
    axe(page)

    open_creation_form(page)
    expect(page.get_by_text("1 compte technicien invité ou actif sur 5 autorisés")).to_be_visible()
    axe(page)
    page.go_back()
    for civilite, last_name, first_name, job_title in TECHNICIENS:
        create_technicien(page, civilite, last_name, first_name, job_title)
    expect(page.get_by_text("5 comptes invités ou actifs sur 5 autorisés : quota atteint")).to_be_visible()
    assert User.objects.filter(partenaire__name="CCAS de Wattrelos", profile=Profile.TECHNICIEN).count() == 5

    # The sixth: refused in French, the form keeps what was typed.
    open_creation_form(page)
    expect(page.get_by_text("5 comptes techniciens invités ou actifs sur 5 autorisés")).to_be_visible()
    fill_identity(page, *ONE_TOO_MANY)
    page.get_by_role("button", name="Créer le compte").click()
    expect(page).to_have_url("/structure/comptes/nouveau-technicien/")
    refusal = page.get_by_text("Quota atteint")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("en a déjà 5")
    expect(page.get_by_label(label("Nom"))).to_have_value("Vasseur")
    expect(page.get_by_label(label("Prénom"))).to_have_value("Élodie")
    expect(page.get_by_label("Madame", exact=True)).to_be_checked()
    axe(page)
    assert not User.objects.filter(last_name="Vasseur").exists()

    # A12: inactivate Hugo Lefort, who left the structure; his place is freed (A4).
    page.get_by_role("link", name="Annuler").click()
    expect(page).to_have_url("/structure/comptes/")
    page.get_by_role("link", name="Inactiver Hugo Lefort", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inactiver un compte technicien")
    page.locator("label", has_text="A quitté la structure").click()
    page.get_by_role("button", name="Inactiver le compte").click()
    expect(page).to_have_url("/structure/comptes/")
    expect(page.get_by_text("Le compte de Hugo Lefort est inactivé.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Hugo Lefort")
    expect(row.get_by_role("cell", name="Inactivé", exact=True)).to_be_visible()
    expect(row).to_contain_text("A quitté la structure")
    expect(row.get_by_role("link", name=re.compile("^Inactiver"))).to_have_count(0)
    expect(page.get_by_text("4 comptes invités ou actifs sur 5 autorisés")).to_be_visible()
    assert User.objects.get(last_name="Lefort").state == AccountState.INACTIVE

    create_technicien(page, *ONE_TOO_MANY)
    assert User.objects.get(last_name="Vasseur").state == AccountState.INVITE


def test_a6_technicien_with_a_gmail_address_is_refused_next_to_the_email_field(demo_data, login, axe):
    page = login("demo.gestionnaire")
    page.goto("/structure/comptes/")
    open_creation_form(page)
    fill_identity(page, "M", "Martin", "Lucas", "Éducateur", email="lucas.martin@gmail.com")
    page.get_by_role("button", name="Créer le compte").click()

    expect(page).to_have_url("/structure/comptes/nouveau-technicien/")
    email = page.get_by_label(label("Adresse email professionnelle"))
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("« gmail.com » est une messagerie personnelle"))
    expect(email).to_have_value("lucas.martin@gmail.com")
    expect(page.get_by_label(label("Nom"))).to_have_value("Martin")
    axe(page)
    assert not User.objects.filter(last_name="Martin").exists()
