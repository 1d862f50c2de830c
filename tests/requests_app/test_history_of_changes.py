"""D7: the allowed state changes, pair by pair, and the history of every change of a request."""

from datetime import datetime
from itertools import product

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import sync_agent_group
from requests_app import services
from requests_app.models import TRANSITIONS, ChangedField, Demande, DemandeKind, DemandeState
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access

pytestmark = pytest.mark.django_db

S = DemandeState
# D7, written from the specification and not from the code: "envoyée → en cours → en attente de complément ⇄
# en cours → traitée, or clôturée sans suite"; the caisse may also ask for a complement, answer or close at
# once on a request just sent. A closed request (traitée, clôturée) never moves again.
D7_ALLOWED = {
    (S.ENVOYEE, S.EN_COURS),
    (S.ENVOYEE, S.EN_ATTENTE),
    (S.ENVOYEE, S.TRAITEE),
    (S.ENVOYEE, S.CLOTUREE),
    (S.EN_COURS, S.EN_ATTENTE),
    (S.EN_COURS, S.TRAITEE),
    (S.EN_COURS, S.CLOTUREE),
    (S.EN_ATTENTE, S.EN_COURS),
    (S.EN_ATTENTE, S.TRAITEE),
    (S.EN_ATTENTE, S.CLOTUREE),
}


@pytest.fixture
def world():
    convention = partner_with_access()
    caisse = convention.convention_metier.caisse
    agent = UserFactory(agent=True, caisse=caisse)
    agent.groups.add(sync_agent_group())
    technicien = UserFactory(partenaire=convention.convention_metier.partenaire, email="tech@structure.example")
    return {"caisse": caisse, "agent": agent, "technicien": technicien}


def file(world, kind=DemandeKind.CONTACT, **fields) -> Demande:
    insured = {
        "assure_civilite": "m",
        "assure_last_name": "Lefebvre",
        "assure_first_name": "Hugo",
        "assure_birth_date": "1985-02-03",
        "assure_departement": "59",
    }
    return services.submit_demande(
        user=world["technicien"],
        caisse=world["caisse"],
        kind=kind,
        fields={**insured, **fields},
        message="Merci de rappeler la personne.",
        form_token=None,
    )


def test_d7_table_is_the_specification():
    allowed = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert allowed == D7_ALLOWED


@pytest.mark.parametrize(("source", "target"), list(product(S, S)), ids=lambda state: state.value)
def test_d7_every_pair_of_states(world, source, target):
    """Each of the 25 pairs through the service: allowed ones move and are recorded, the others change
    nothing and say why."""
    demande = file(world)
    Demande.objects.filter(pk=demande.pk).update(state=source)
    before = demande.changes.count()
    if (source, target) in D7_ALLOWED:
        services.change_state(demande, target, by=world["agent"])
        demande.refresh_from_db()
        assert demande.state == target
        last = demande.changes.last()
        assert (last.field, last.old_value, last.new_value, last.by) == ("state", source, target, world["agent"])
    else:
        with pytest.raises(ValidationError) as refused:
            services.change_state(demande, target, by=world["agent"])
        assert "ne peut pas passer" in " ".join(refused.value.messages)
        demande.refresh_from_db()
        assert demande.state == source and demande.changes.count() == before


def test_d7_a_refused_move_in_an_answer_saves_nothing(world):
    """The transition is checked in one place (the service's move): the answer form gets the same error on
    its state field, and neither the message nor a change is kept."""
    demande = file(world)
    services.change_state(demande, S.TRAITEE, by=world["agent"])
    messages, changes = demande.messages.count(), demande.changes.count()
    with pytest.raises(ValidationError) as refused:
        services.answer(demande, agent=world["agent"], body="Réponse.", new_state=S.EN_COURS)
    assert list(refused.value.message_dict) == ["new_state"]
    assert (demande.messages.count(), demande.changes.count()) == (messages, changes)


def test_d7_assignment_is_traced_with_who_assigned(world):
    demande = file(world)
    other = UserFactory(agent=True, caisse=world["caisse"], first_name="Nora", last_name="Benali")
    assert services.assign([demande], world["agent"], by=world["agent"]) == 1
    assert services.assign([demande], other, by=world["agent"]) == 1
    assert services.assign([demande], other, by=world["agent"]) == 0  # already hers: nothing recorded
    changes = list(demande.changes.filter(field=ChangedField.ASSIGNED_TO))
    assert [(c.old_value, c.new_value, c.by) for c in changes] == [
        ("", str(world["agent"].pk), world["agent"]),
        (str(world["agent"].pk), str(other.pk), world["agent"]),
    ]
    assert changes[1].new_display == "Nora Benali"


def test_d1_a_changed_appointment_keeps_its_previous_date_and_place(world):
    demande = file(
        world,
        DemandeKind.RENDEZ_VOUS,
        reason="Ouverture de droits",
        modality="sur_place",
        slot_1=timezone.make_aware(datetime(2026, 12, 7, 9, 0)),
    )
    first = timezone.make_aware(datetime(2026, 12, 8, 10, 0))
    second = timezone.make_aware(datetime(2026, 12, 9, 14, 30))
    services.answer(demande, agent=world["agent"], body="RDV fixé.", appointment_at=first, appointment_place="Accueil")
    services.answer(
        demande, agent=world["agent"], body="RDV déplacé.", appointment_at=second, appointment_place="Accueil"
    )
    changes = [
        (c.field, c.old_display, c.new_display)
        for c in demande.changes.exclude(field=ChangedField.STATE).order_by("at", "id")
    ]
    assert changes == [
        ("appointment_at", "", "08/12/2026 10:00"),
        ("appointment_place", "", "Accueil"),
        ("appointment_at", "08/12/2026 10:00", "09/12/2026 14:30"),
    ]


def test_d7_agent_reads_the_whole_history_partner_only_the_states(world, client):
    demande = file(world)
    services.assign([demande], world["agent"], by=world["agent"])
    services.change_state(demande, S.EN_COURS, by=world["agent"])
    mail.outbox.clear()
    verified_login(client, world["agent"])
    page = client.get(reverse("admin:requests_app_demande_change", args=[demande.pk])).content.decode()
    assert "historique de la demande" in page.lower()
    assert "agent en charge" in page and world["agent"].get_full_name() in page and "En cours" in page
    client.logout()
    verified_login(client, world["technicien"])
    page = client.get(reverse("demande_detail", args=[demande.reference])).content.decode()
    history = page.split("Historique des états")[1]
    assert "En cours" in history and "Envoyée" in history
    assert world["agent"].get_full_name() not in history
