"""D4 on every free-text zone, not only the requests: the admin's reasons and the portal's reports."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import ConventionUtilisationFactory

pytestmark = pytest.mark.django_db

NIR_TEXT = "Signalé pour le 1 84 03 59 350 123 59"  # a NIR with its valid key
HEALTH_TEXT = "La personne est sous chimiothérapie"


def test_d4_admin_suspension_reason_refuses_a_nir(client, health_lexicon):
    partenaire = ConventionUtilisationFactory().convention_metier.partenaire
    verified_login(client, UserFactory(administrateur=True))
    url = reverse("admin:conventions_partenaire_action", args=[partenaire.pk, "suspendre"])
    response = client.post(url, {"reason": NIR_TEXT})
    assert response.status_code == 200
    assert "NIR" in response.content.decode()
    partenaire.refresh_from_db()
    assert not partenaire.is_suspended


def test_d4_portal_incident_report_refuses_health_data(client, health_lexicon):
    technicien = UserFactory(partenaire=ConventionUtilisationFactory().convention_metier.partenaire)
    verified_login(client, technicien)
    response = client.post(
        reverse("incident_report"), {"account": technicien.pk, "kind": "loss", "description": HEALTH_TEXT}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "chimiothérapie" in content.lower() and "CNIL" in content
    assert not technicien.incidents.exists()


def test_d4_services_refuse_it_too_whatever_calls_them(health_lexicon):
    from conventions import services

    partenaire = ConventionUtilisationFactory().convention_metier.partenaire
    with pytest.raises(ValidationError) as error:
        services.suspend_partenaire(partenaire, reason=HEALTH_TEXT)
    assert "reason" in error.value.message_dict
