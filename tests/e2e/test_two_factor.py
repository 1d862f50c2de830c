"""A17 in the browser: after a reset, a gestionnaire opens the emailed link, activates the double
authentication with the key shown on the page, keeps its backup codes, then signs in again with one of them.
axe on every page of the journey."""

import re
from base64 import b32decode
from urllib.parse import urlsplit

from django_otp.oath import totp
from playwright.sync_api import expect

from accounts import two_factor
from accounts.models import User

CODE_LABEL = re.compile(r"^\s*Code à 6 chiffres")


def application_code(key: str) -> str:
    """What the phone's application shows for this key now (RFC 6238, 30 s, 6 digits)."""
    return f"{totp(b32decode(key.replace(' ', ''))):06d}"


def test_a17_gestionnaire_activates_two_factor_and_signs_in_again_with_a_backup_code(
    demo_data, submit_login_form, settings, axe, mailoutbox
):
    # The demo accounts come with a device: the national administrator resets the gestionnaire's first.
    gestionnaire = User.objects.get(username="demo.gestionnaire")
    two_factor.reset_two_factor(gestionnaire, actor=User.objects.get(username="demo.admin"))
    assert not two_factor.has_confirmed_device(gestionnaire)

    [email] = [message for message in mailoutbox if "nouvel appareil" in message.subject]
    link = urlsplit(re.search(r"https?://\S+/2fa/nouvel-appareil/\S+/", email.body).group(0)).path

    # The password alone does not enrol a device: the page asks for the emailed link.
    page = submit_login_form("demo.gestionnaire", settings.DEMO_PASSWORD)
    page.goto("/2fa/activation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ouvrez le lien reçu par email")
    expect(page.get_by_role("img", name=re.compile("QR code à scanner"))).to_have_count(0)
    axe(page)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.get_by_role("img", name=re.compile("QR code à scanner"))).to_be_visible()
    axe(page)

    # A mistyped code first: the error stands next to the field, in French.
    key = page.locator("#cle-secrete").inner_text()
    page.get_by_label(CODE_LABEL).fill("12ab")
    page.get_by_role("button", name="Activer").click()
    # Under the field, and in the error summary that takes the focus.
    expect(page.locator("#id_code-desc-error")).to_contain_text("exactement 6 chiffres")
    expect(page.locator("#resume-erreurs")).to_be_focused()
    axe(page)

    page.get_by_label(CODE_LABEL).fill(application_code(key))
    page.get_by_role("button", name="Activer").click()

    expect(page).to_have_url(re.compile(r"/2fa/codes-de-secours/"))
    codes = page.get_by_role("list", name="Codes de secours").get_by_role("listitem")
    expect(codes).to_have_count(10)
    backup_code = codes.first.inner_text().strip()
    expect(page.get_by_text("Ils ne s'afficheront plus")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="J'ai conservé mes codes").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))

    # Next login: the second step, here with a backup code.
    page.get_by_role("button", name="Se déconnecter").click()
    submit_login_form("demo.gestionnaire", settings.DEMO_PASSWORD)
    page.goto("/2fa/verification/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification en deux étapes")
    axe(page)
    page.get_by_label(CODE_LABEL).fill(backup_code)
    page.get_by_role("button", name="Valider").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))
