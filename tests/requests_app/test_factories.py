"""The request factory builds what the services would have written (D7): the consistency checks find nothing."""

import pytest

from portal import consistency
from requests_app.models import DemandeKind, DemandeState
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db


def test_d7_factory_requests_are_consistent_with_their_history(private_media):
    demandes = [
        DemandeFactory(),
        DemandeFactory(rendez_vous=True, traitee=True),
        DemandeFactory(etude_dossier=True, en_attente=True, with_piece=True),
        DemandeFactory(signalement=True, cloturee=True),
        DemandeFactory(document=True, en_cours=True),
    ]
    assert [d.kind for d in demandes] == [
        DemandeKind.CONTACT,
        DemandeKind.RENDEZ_VOUS,
        DemandeKind.ETUDE_DOSSIER,
        DemandeKind.SIGNALEMENT,
        DemandeKind.DOCUMENT,
    ]
    assert demandes[1].state == DemandeState.TRAITEE
    assert [c.new_value for c in demandes[1].changes.states()] == ["envoyee", "traitee"]
    piece = demandes[2].pieces.get()
    with piece.file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF")
    assert piece.message == demandes[2].messages.get()
    assert all(d.filed_by.partenaire == d.partenaire for d in demandes)
    assert not consistency.demandes_off_their_history().exists()
    assert not consistency.techniciens_attached_elsewhere().exists()
