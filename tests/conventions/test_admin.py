"""The caisse's back-office: French errors next to the field, typed values kept, nothing half-saved."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from accounts.permissions import sync_agent_group
from conventions.models import ConventionStatus, ConventionUtilisation, MiseEnDemeure, Partenaire
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import (
    CaisseFactory,
    ConventionMetierFactory,
    ConventionUtilisationFactory,
    MiseEnDemeureFactory,
    valid_siret,
)

pytestmark = pytest.mark.django_db


def inline_management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def admin_client(client):
    verified_login(client, UserFactory(administrateur=True))
    return client


@pytest.fixture
def agent(db):
    user = UserFactory(agent=True)
    user.groups.add(sync_agent_group())
    return user


def partenaire_form(**overrides):
    data = {
        "name": "CCAS de Roubaix",
        "kind": "ccas",
        "siret": valid_siret(777),
        "member_count": "13",
        "address_line": "17 Grand Place",
        "postal_code": "59100",
        "city": "Roubaix",
        "legal_representative": "Claude Martin",
        "legal_representative_title": "Président",
        **inline_management("email_domains", total=1),
        "email_domains-0-domain": "ccas-roubaix.example",
    }
    data.update(overrides)
    return data


def test_c2_admin_creates_a_partner_with_its_domains(admin_client):
    response = admin_client.post(reverse("admin:conventions_partenaire_add"), partenaire_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    partenaire = Partenaire.objects.get()
    assert [d.domain for d in partenaire.email_domains.all()] == ["ccas-roubaix.example"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siret", "12345678901234", "n&#x27;est pas valide"),
        ("member_count", "0", "au moins un membre"),
        ("email_domains-0-domain", "pas un domaine", "nom de domaine valide"),
    ],
)
def test_c2_admin_refuses_bad_input_in_french_and_keeps_it(admin_client, field, value, message):
    response = admin_client.post(reverse("admin:conventions_partenaire_add"), partenaire_form(**{field: value}))
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'value="CCAS de Roubaix"' in content
    assert not Partenaire.objects.exists()


def test_c3_admin_refuses_an_end_date_before_the_start_date(admin_client):
    partenaire = Partenaire.objects.create(**{k: v for k, v in partenaire_form().items() if "-" not in k})
    caisse = CaisseFactory()
    data = {
        "caisse": caisse.pk,
        "partenaire": partenaire.pk,
        "reference": "REF-1",
        "start_date": "10/01/2024",
        "end_date": "09/01/2024",
        **inline_management("convention_utilisation"),
    }
    response = admin_client.post(reverse("admin:conventions_conventionmetier_add"), data)
    assert response.status_code == 200
    assert "La date de fin ne peut pas précéder la date de début" in response.content.decode()
    assert not partenaire.conventions_metier.exists()


def test_c4_admin_refuses_a_second_convention_utilisation_on_one_metier(admin_client):
    existing = ConventionUtilisationFactory()
    data = {
        "convention_metier": existing.convention_metier.pk,
        "signed_on": "01/10/2023",
        "partner_signatory": "X",
        "caisse_signatory": "Y",
        **inline_management("avenants"),
        **inline_management("mises_en_demeure"),
    }
    response = admin_client.post(reverse("admin:conventions_conventionutilisation_add"), data)
    assert response.status_code == 200
    assert "Cette convention métier a déjà une convention d&#x27;utilisation" in response.content.decode()
    assert ConventionUtilisation.objects.count() == 1


def test_c5_admin_switches_a_service_off(admin_client):
    convention = ConventionUtilisationFactory()
    url = reverse("admin:conventions_conventionutilisation_change", args=[convention.pk])
    data = {
        "convention_metier": convention.convention_metier.pk,
        "signed_on": "30/09/2023",
        "partner_signatory": "X",
        "caisse_signatory": "Y",
        "service_contact": "on",
        "service_etude_dossier": "on",
        "service_signalement": "on",
        "service_document": "on",
        "service_historique": "on",
        **inline_management("avenants"),
        **inline_management("mises_en_demeure"),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    convention.refresh_from_db()
    assert not convention.service_rendez_vous and convention.service_contact


def test_a13_admin_suspends_a_structure_with_a_reason(admin_client):
    partenaire = ConventionMetierFactory().partenaire
    url = reverse("admin:conventions_partenaire_action", args=[partenaire.pk, "suspendre"])
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.content.decode()
    response = admin_client.post(url, {"reason": "Usage frauduleux"})
    assert response.status_code == 302
    partenaire.refresh_from_db()
    assert partenaire.is_suspended and partenaire.suspension_reason == "Usage frauduleux"


@time_machine.travel(date(2026, 2, 1), tick=False)
def test_c6_admin_refuses_termination_before_30_days_and_says_from_when(admin_client):
    notice = MiseEnDemeureFactory(received_on=date(2026, 1, 7))
    url = reverse("admin:conventions_conventionutilisation_action", args=[notice.convention.pk, "resilier"])
    response = admin_client.post(url, {"notice": notice.pk, "terminated_on": "01/02/2026"})
    assert response.status_code == 200
    assert "qu&#x27;à partir du 06/02/2026" in response.content.decode()
    notice.convention.refresh_from_db()
    assert notice.convention.status == ConventionStatus.EN_VIGUEUR


@time_machine.travel(date(2026, 2, 1), tick=False)
def test_c6_admin_records_a_formal_notice(admin_client):
    convention = ConventionUtilisationFactory()
    url = reverse("admin:conventions_conventionutilisation_action", args=[convention.pk, "mise-en-demeure"])
    data = {"issued_by": "caisse", "sent_on": "2026-01-05", "received_on": "2026-01-07", "grounds": "Manquement"}
    response = admin_client.post(url, data, follow=True)
    assert "la résiliation sera possible à partir du 06/02/2026" in response.content.decode()
    assert MiseEnDemeure.objects.get().recorded_by is not None


def test_agent_sees_only_the_conventions_of_its_caisse(client, agent):
    own = ConventionMetierFactory(caisse=agent.caisse)
    other = ConventionMetierFactory()
    verified_login(client, agent)
    changelist = client.get(reverse("admin:conventions_conventionmetier_changelist")).content.decode()
    assert own.partenaire.name in changelist
    assert other.partenaire.name not in changelist
    response = client.get(reverse("admin:conventions_conventionmetier_change", args=[other.pk]))
    assert response.status_code == 404
    assert client.get(reverse("admin:conventions_conventionmetier_change", args=[own.pk])).status_code == 200


def test_technicien_has_no_back_office(client):
    verified_login(client, UserFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_d5_signed_convention_upload_is_checked_like_any_attachment(admin_client, private_media):
    from tests.requests_app.files import html, upload

    existing = ConventionUtilisationFactory()
    url = reverse("admin:conventions_conventionutilisation_change", args=[existing.pk])
    data = {
        "convention_metier": existing.convention_metier.pk,
        "signed_on": "30/09/2023",
        "partner_signatory": "X",
        "caisse_signatory": "Y",
        "signed_document": upload("convention.pdf", html(), "application/pdf"),
        **inline_management("avenants"),
        **inline_management("mises_en_demeure"),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "convention.pdf" in response.content.decode()
    existing.refresh_from_db()
    assert not existing.signed_document
    assert not [path for path in private_media.rglob("*") if path.is_file()]
