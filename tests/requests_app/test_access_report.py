"""P4, RGPD art. 15 (right of access): for one insured person, every access to their data, exported by the caisse."""

import uuid
from datetime import date

import pytest
from django.urls import reverse

from accounts.permissions import sync_agent_group
from core.models import Action, JournalEntry
from requests_app import services
from requests_app.models import DemandeKind
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access

pytestmark = pytest.mark.django_db


def test_cnil_access_report_lists_every_read_of_one_persons_requests(client):
    convention = partner_with_access()
    caisse = convention.convention_metier.caisse
    technicien = UserFactory(partenaire=convention.convention_metier.partenaire, last_name="Fontaine")
    fields = {
        "assure_civilite": "m",
        "assure_first_name": "Noé",
        "assure_birth_date": date(1990, 5, 1),
        "assure_departement": "59",
    }
    mine = services.submit_demande(
        user=technicien,
        caisse=caisse,
        kind=DemandeKind.CONTACT,
        fields={**fields, "assure_last_name": "Lefèvre"},
        message="x",
        form_token=uuid.uuid4(),
    )
    other = services.submit_demande(
        user=technicien,
        caisse=caisse,
        kind=DemandeKind.CONTACT,
        fields={**fields, "assure_last_name": "Martin"},
        message="x",
        form_token=uuid.uuid4(),
    )
    services.record_read(mine, technicien)
    services.record_read(other, technicien)
    agent = UserFactory(agent=True, caisse=caisse)
    agent.groups.add(sync_agent_group())
    verified_login(client, agent)
    url = reverse("admin:requests_app_demande_access_report")
    assert client.get(url).status_code == 200
    response = client.post(url, {"last_name": "LEFEVRE", "birth_date": "1990-05-01"})
    content = b"".join(response.streaming_content).decode()
    assert mine.reference in content and other.reference not in content
    assert "Fontaine" in content
    assert JournalEntry.objects.filter(action=Action.ACCESS_REPORT_EXPORTED, actor=agent).exists()
    stranger = UserFactory(agent=True)
    stranger.groups.add(sync_agent_group())
    verified_login(client, stranger)
    response = client.post(url, {"last_name": "Lefèvre", "birth_date": "1990-05-01"})
    assert mine.reference not in b"".join(response.streaming_content).decode()
