"""P3: a partner's account sees the referents of the caisses its structure has access to, and only those."""

from playwright.sync_api import expect


def test_p3_technicien_sees_the_referents_of_its_caisse(demo_data, login):
    page = login("demo.technicien")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Léa")

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Contacts de ma caisse", exact=True
    ).click()

    expect(page).to_have_url("/contacts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts de ma caisse")
    roubaix = page.get_by_role("region", name="CPAM de Roubaix-Tourcoing", exact=True)
    expect(roubaix.get_by_role("heading", level=3)).to_have_text(["Camille Demoulin", "Karim Benali"])
    expect(page.get_by_role("region")).to_have_count(1)
    expect(page.get_by_text("CPAM de Lille-Douai")).to_have_count(0)
    expect(page.get_by_text("Sophie Lambert")).to_have_count(0)
