"""P5: the portal's pages have no serious or critical axe-core violation and work with the keyboard."""

import pytest
from playwright.sync_api import expect

HOMES = {
    "demo.technicien": "Bonjour Léa",
    "demo.gestionnaire": "Bonjour Marc",
    "demo.agent": "Bonjour Julie",
    "demo.admin": "Bonjour Anne",
}


def test_p5_login_page_has_no_serious_axe_violation(page, axe):
    page.goto("/connexion/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Se connecter")
    axe(page)


def test_p5_login_page_with_a_wrong_password_has_no_serious_axe_violation(demo_data, submit_login_form, axe):
    page = submit_login_form("demo.technicien", "pas-le-bon-mot-de-passe")
    expect(page.locator("#resume-erreurs")).to_contain_text("Identifiant ou mot de passe incorrect")
    expect(page).to_have_url("/connexion/")
    axe(page)


@pytest.mark.parametrize("username", HOMES)
def test_p5_home_page_of_each_profile_has_no_serious_axe_violation(demo_data, login, username, axe):
    page = login(username)
    expect(page.get_by_role("heading", level=1)).to_have_text(HOMES[username])
    axe(page)


def test_p5_contacts_page_has_no_serious_axe_violation(demo_data, login, axe):
    page = login("demo.technicien")
    page.goto("/contacts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts de ma caisse")
    axe(page)


def test_p5_skip_link_contenu_is_the_first_focusable_element(demo_data, login):
    page = login("demo.technicien")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Contenu"
    expect(page.get_by_role("navigation", name="Accès rapide").get_by_role("link", name="Contenu")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()


def test_p5_logout_button_returns_to_the_login_page_and_ends_the_session(demo_data, login):
    page = login("demo.technicien")
    page.get_by_role("button", name="Se déconnecter", exact=True).click()
    expect(page).to_have_url("/connexion/")
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()

    page.goto("/")
    expect(page).to_have_url("/connexion/?next=/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Se connecter")
