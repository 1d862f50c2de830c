"""Rules across rows the database cannot hold (A4, A11, A14, D7): found by the nightly check, journaled, listed
for the national administrator."""

import html
from datetime import date

import pytest
from django.urls import reverse

from accounts.models import AccountState, Profile
from conventions.models import ConventionStatus
from core.models import Action, JournalEntry
from portal import consistency
from portal.jobs import BY_NAME
from requests_app.models import Demande, DemandeState
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.factories import DemandeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    convention = partner_with_access(member_count=5)
    partenaire = convention.convention_metier.partenaire
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    technicien = UserFactory(partenaire=partenaire, attached_to=gestionnaire)
    demande = DemandeFactory(convention=convention, filed_by=technicien)
    return {"convention": convention, "partenaire": partenaire, "technicien": technicien, "demande": demande}


def findings(check_name):
    summary = JournalEntry.objects.filter(action=Action.CONSISTENCY_CHECKED).latest("id")
    return summary.details[check_name], [
        entry.target_id
        for entry in JournalEntry.objects.filter(
            action=Action.CONSISTENCY_FINDING, details__run=summary.details["run"], details__controle=check_name
        )
    ]


def test_consistency_a_sound_world_has_no_finding(world):
    assert BY_NAME["coherence"].run() == 0
    assert all(findings(check.name) == (0, []) for check in consistency.CHECKS)


def test_a11_a_technicien_attached_to_another_structures_gestionnaire_is_found(world):
    other = UserFactory(gestionnaire=True, partenaire=partner_with_access().convention_metier.partenaire)
    world["technicien"].attached_to = other
    world["technicien"].save()
    consistency.run()
    assert findings("rattachement") == (1, [str(world["technicien"].pk)])


def test_d7_a_request_whose_state_is_not_its_last_recorded_change_is_found(world):
    Demande.objects.filter(pk=world["demande"].pk).update(state=DemandeState.TRAITEE)  # behind the service's back
    consistency.run()
    assert findings("etat_demande") == (1, [str(world["demande"].pk)])


def test_a14_active_accounts_of_a_structure_without_convention_in_force_are_found(world):
    metier = world["convention"].convention_metier
    type(metier).objects.filter(pk=metier.pk).update(status=ConventionStatus.TERMINEE, ended_on=date(2026, 1, 1))
    consistency.run()
    count, ids = findings("comptes_sans_convention")
    assert count == 2 and set(ids) == {str(u.pk) for u in world["partenaire"].accounts.all()}


def test_a4_a_structure_over_quota_is_found(world):
    for _ in range(5):  # 5 members: up to 5 techniciens (A3); the sixth is one too many
        UserFactory(partenaire=world["partenaire"], state=AccountState.ACTIF, profile=Profile.TECHNICIEN)
    consistency.run()
    assert findings("quota") == (1, [str(world["partenaire"].pk)])


def test_consistency_dry_run_journals_nothing(world):
    Demande.objects.filter(pk=world["demande"].pk).update(state=DemandeState.TRAITEE)
    assert BY_NAME["coherence"].run(dry_run=True) == 1
    assert not JournalEntry.objects.filter(action__startswith="consistency").exists()


def test_consistency_page_lists_the_last_runs_findings_for_the_national_administrator(world, client):
    Demande.objects.filter(pk=world["demande"].pk).update(state=DemandeState.TRAITEE)
    consistency.run()
    verified_login(client, UserFactory(administrateur=True))
    page = html.unescape(client.get(reverse("admin:consistency")).content.decode())
    assert "Demandes dont l'état diffère du dernier changement enregistré (D7) : 1" in page
    assert reverse("admin:requests_app_demande_change", args=[world["demande"].pk]) in page
    assert world["demande"].reference in page
