"""A7, A8, A17 in the browser: a technicien created by its gestionnaire opens the emailed activation link,
chooses a password within the rules, is signed in and taken through the gate (double authentication,
backup codes, CGU) to the home page. A used link and an expired one are refused in French. axe on every page."""

import re
from base64 import b32decode
from datetime import timedelta
from urllib.parse import urlsplit

from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts import services
from accounts.models import AccountState, AccountToken, Civilite, TokenPurpose, User

IDENTITY = {
    "civilite": Civilite.MONSIEUR,
    "last_name": "Lemaire",
    "first_name": "Hugo",
    "job_title": "Médiateur numérique",
    "phone": "03 20 75 11 22",
    "email": "hugo.lemaire@ccas-wattrelos.example",
}
GOOD_PASSWORD = "Soleil-Levant-2026"
LINK = re.compile(r"https?://\S+/activation/[^/\s]+/")


def label(start: str):
    """DSFR labels end with the required marker " *": match their start."""
    return re.compile(rf"^\s*{re.escape(start)}")


def activation_path(message) -> str:
    """The activation link of an email, as a path: the live server replaces settings.PORTAL_BASE_URL."""
    links = LINK.findall(message.body)
    assert len(links) == 1, message.body
    return urlsplit(links[0]).path


def invite_technicien() -> tuple[User, str]:
    """The demo gestionnaire creates a technicien (A6): one email, to the technicien, with its link."""
    gestionnaire = User.objects.get(username="demo.gestionnaire")
    technicien = services.create_technicien(gestionnaire, IDENTITY)
    assert technicien.state == AccountState.INVITE
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [IDENTITY["email"]]
    assert technicien.username in mail.outbox[0].body
    return technicien, activation_path(mail.outbox[0])


def application_code(key: str) -> str:
    """What the phone's application shows for this key now (RFC 6238, 30 s, 6 digits)."""
    return f"{totp(b32decode(key.replace(' ', ''))):06d}"


def choose_password(page, password: str):
    page.get_by_label(label("Nouveau mot de passe")).fill(password)
    page.get_by_label(label("Confirmez le mot de passe")).fill(password)
    page.get_by_role("button", name="Activer mon compte").click()


def test_a7_a8_a17_technicien_activates_its_account_and_goes_through_the_gate(demo_data, page, settings, axe):
    settings.TECHNICIEN_2FA_REQUIRED = True
    technicien, path = invite_technicien()

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer votre compte")
    expect(page.get_by_text(f"Votre identifiant est {technicien.username}")).to_be_visible()
    rules = page.get_by_role("main").get_by_role("list").filter(has_text="12 caractères")
    expect(rules).to_contain_text("Votre mot de passe doit contenir au minimum 12 caractères.")
    expect(rules).to_contain_text("Au moins 3 types de caractères")
    axe(page)

    # A7: too simple, refused in French next to the field; the account stays invited.
    choose_password(page, "soleil")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer votre compte")
    password = page.get_by_label(label("Nouveau mot de passe"))
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("Ce mot de passe est trop court"))
    axe(page)
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INVITE

    # A good one: signed in, and the gate asks first for the double authentication (A17).
    choose_password(page, GOOD_PASSWORD)
    expect(page).to_have_url(re.compile(r"/2fa/activation/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.get_by_text("Votre compte est activé.")).to_be_visible()
    technicien.refresh_from_db()
    assert technicien.state == AccountState.ACTIF
    axe(page)
    key = page.locator("#cle-secrete").inner_text()
    page.get_by_label(label("Code à 6 chiffres")).fill(application_code(key))
    page.get_by_role("button", name="Activer").click()

    expect(page).to_have_url(re.compile(r"/2fa/codes-de-secours/"))
    expect(page.get_by_role("list", name="Codes de secours").get_by_role("listitem")).to_have_count(10)
    axe(page)
    page.get_by_role("button", name="J'ai conservé mes codes").click()

    # A8: then the CGU, before anything else.
    expect(page).to_have_url(re.compile(r"/cgu/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Conditions générales d'utilisation")
    expect(page.get_by_text("Avant votre première utilisation")).to_be_visible()
    axe(page)
    page.locator("label[for=id_accept]").click()  # the DSFR label covers its checkbox
    page.get_by_role("button", name="Accepter et continuer").click()

    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Hugo")
    axe(page)
    assert technicien.cgu_acceptances.count() == 1

    # The link served once: opening it again says so (HTTP 410), in French.
    response = page.goto(path)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Lien d'activation")
    expect(page.get_by_text("Ce lien a déjà été utilisé")).to_be_visible()
    axe(page)


def test_a7_expired_activation_link_offers_a_new_one_by_email(demo_data, page, axe):
    technicien, path = invite_technicien()
    AccountToken.objects.filter(user=technicien, purpose=TokenPurpose.ACTIVATION).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = page.goto(path)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Lien d'activation")
    expect(page.get_by_text("Ce lien a expiré.")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Recevoir un nouveau lien").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau lien d'activation")
    expect(page.get_by_text("un nouveau lien vient d'être envoyé")).to_be_visible()
    axe(page)
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == [IDENTITY["email"]]
    new_path = activation_path(mail.outbox[1])
    assert new_path != path

    # The new link opens the activation form; the expired one still does not.
    page.goto(new_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer votre compte")
    assert page.goto(path).status == 410
    expect(page.get_by_text("Ce lien a expiré.")).to_be_visible()
