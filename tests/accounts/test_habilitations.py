"""A5, A10, A11, A13, A16: what the partner asks the caisse about accounts and what the caisse does."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import habilitations, services
from accounts.models import (
    AccountState,
    GestionnaireRequest,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    IncidentKind,
    RequestStatus,
    User,
)
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import DomaineEmailFactory, PartenaireFactory, partner_with_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(agent=True)


@pytest.fixture
def partenaire(agent):
    """A structure with a convention d'utilisation in force with the agent's caisse."""
    partenaire = partner_with_access(caisse=agent.caisse, member_count=13).convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    return partenaire


def gestionnaire_of(partenaire, **kwargs):
    return UserFactory(gestionnaire=True, partenaire=partenaire, email="g@structure.example", **kwargs)


def demand(partenaire, received_on):
    return HabilitationRequest(
        partenaire=partenaire,
        civilite="m",
        last_name="Delattre",
        first_name="Marc",
        job_title="Responsable",
        phone="0320000000",
        email="marc.delattre@structure.example",
        received_on=received_on,
    )


@pytest.mark.parametrize(
    ("received_on", "due_on"),
    [
        (date(2026, 11, 26), date(2026, 12, 3)),  # Thursday → next Thursday
        (date(2026, 12, 22), date(2026, 12, 30)),  # Christmas (Friday) is not a working day
        (date(2026, 4, 30), date(2026, 5, 11)),  # 1st and 8th of May are holidays
    ],
)
def test_a5_habilitation_request_is_due_within_5_working_days(partenaire, agent, received_on, due_on):
    request_obj = habilitations.record_habilitation_request(demand(partenaire, received_on), actor=agent)
    assert request_obj.due_on == due_on


def test_a5_agent_creates_the_gestionnaire_from_the_request(partenaire, agent, django_capture_on_commit_callbacks):
    request_obj = habilitations.record_habilitation_request(demand(partenaire, date(2026, 11, 26)), actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        user = habilitations.accept_habilitation_request(request_obj, actor=agent)
    request_obj.refresh_from_db()
    assert request_obj.status == RequestStatus.DONE and request_obj.account == user
    assert user.is_gestionnaire and user.state == AccountState.INVITE and user.created_by == agent
    assert mail.outbox[0].to == ["marc.delattre@structure.example"]
    with pytest.raises(ValidationError, match="déjà été traitée"):
        habilitations.accept_habilitation_request(request_obj, actor=agent)


def test_a5_habilitation_within_quota(partenaire, agent):
    for n in range(3):
        gestionnaire_of(partenaire, username=f"g{n}")
    request_obj = habilitations.record_habilitation_request(demand(partenaire, date(2026, 11, 26)), actor=agent)
    with pytest.raises(ValidationError, match="Quota atteint"):
        habilitations.accept_habilitation_request(request_obj, actor=agent)
    request_obj.refresh_from_db()
    assert request_obj.status == RequestStatus.PENDING


def test_a5_habilitation_request_refuses_a_consumer_webmail(partenaire, agent):
    bad = demand(partenaire, date(2026, 11, 26))
    bad.email = "marc@hotmail.fr"
    with pytest.raises(ValidationError) as error:
        habilitations.record_habilitation_request(bad, actor=agent)
    assert "messagerie personnelle" in error.value.message_dict["email"][0]
    assert not HabilitationRequest.objects.exists()


def test_a10_modification_is_asked_by_the_partner_and_applied_by_the_caisse(partenaire, agent):
    asking = gestionnaire_of(partenaire, username="g1")
    target = gestionnaire_of(partenaire, username="g2", job_title="Adjoint")
    request_obj = habilitations.request_gestionnaire_modification(
        target, {"job_title": "Directrice", "email": "nouvelle@structure.example", "phone": ""}, requested_by=asking
    )
    target.refresh_from_db()
    assert target.job_title == "Adjoint"  # nothing changes before the caisse applies it
    habilitations.apply_gestionnaire_request(request_obj, actor=agent)
    target.refresh_from_db()
    assert (target.job_title, target.email) == ("Directrice", "nouvelle@structure.example")
    assert target.history.count() >= 2


def test_a10_modification_refuses_a_foreign_domain(partenaire):
    asking = gestionnaire_of(partenaire, username="g1")
    with pytest.raises(ValidationError, match="domaine professionnel"):
        habilitations.request_gestionnaire_modification(asking, {"email": "x@ailleurs.example"}, requested_by=asking)


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a11_inactivation_must_be_asked_15_days_ahead(partenaire):
    asking = gestionnaire_of(partenaire, username="g1")
    target = gestionnaire_of(partenaire, username="g2")
    with pytest.raises(ValidationError) as error:
        habilitations.request_gestionnaire_inactivation(target, date(2026, 12, 10), requested_by=asking)
    assert "à partir du 11/12/2026" in error.value.message_dict["wanted_on"][0]
    habilitations.request_gestionnaire_inactivation(target, date(2026, 12, 11), requested_by=asking)


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a11_last_gestionnaire_cannot_be_inactivated(partenaire, agent):
    only = gestionnaire_of(partenaire, username="g1")
    with pytest.raises(ValidationError, match="dernier gestionnaire actif"):
        habilitations.request_gestionnaire_inactivation(only, date(2027, 1, 1), requested_by=only)
    with pytest.raises(ValidationError, match="dernier gestionnaire actif"):
        services.inactivate_account(only, reason=InactivationReason.PARTNER_REQUEST, actor=agent)
    assert not GestionnaireRequest.objects.exists()


@time_machine.travel(date(2026, 11, 26), tick=False)
def test_a11_two_requests_cannot_leave_the_structure_without_gestionnaire(partenaire):
    first = gestionnaire_of(partenaire, username="g1")
    second = gestionnaire_of(partenaire, username="g2")
    habilitations.request_gestionnaire_inactivation(second, date(2027, 1, 1), requested_by=first)
    with pytest.raises(ValidationError, match="dernier gestionnaire actif"):
        habilitations.request_gestionnaire_inactivation(first, date(2027, 1, 1), requested_by=second)


def test_a11_techniciens_of_an_inactivated_gestionnaire_are_reattached(partenaire, agent):
    leaving = gestionnaire_of(partenaire, username="g1")
    staying = gestionnaire_of(partenaire, username="g2")
    techniciens = [UserFactory(partenaire=partenaire, attached_to=leaving, created_by=leaving) for _ in range(2)]
    with time_machine.travel(date(2026, 11, 26), tick=False):
        request_obj = habilitations.request_gestionnaire_inactivation(leaving, date(2026, 12, 15), requested_by=staying)
        habilitations.apply_gestionnaire_request(request_obj, actor=agent)
    request_obj.refresh_from_db()
    assert request_obj.status == RequestStatus.SCHEDULED
    leaving.refresh_from_db()
    assert leaving.state == AccountState.ACTIF
    with time_machine.travel(date(2026, 12, 15), tick=False):
        assert habilitations.run_scheduled_inactivations() == 1
        assert habilitations.run_scheduled_inactivations() == 0
    leaving.refresh_from_db()
    assert leaving.state == AccountState.INACTIVE
    for technicien in techniciens:
        technicien.refresh_from_db()
        assert technicien.state == AccountState.ACTIF and technicien.attached_to == staying


def test_a12_any_gestionnaire_inactivates_a_technicien_with_a_reason(partenaire):
    creator = gestionnaire_of(partenaire, username="g1")
    other = gestionnaire_of(partenaire, username="g2")
    technicien = UserFactory(partenaire=partenaire, created_by=creator, attached_to=creator)
    with pytest.raises(ValidationError, match="Précisez"):
        services.inactivate_technicien(technicien, gestionnaire=other, reason=InactivationReason.OTHER)
    services.inactivate_technicien(technicien, gestionnaire=other, reason=InactivationReason.OTHER_FIELD)
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INACTIVE
    assert technicien.inactivation_reason == InactivationReason.OTHER_FIELD


def test_a12_gestionnaire_of_another_structure_cannot_inactivate(partenaire):
    technicien = UserFactory(partenaire=partenaire)
    stranger = UserFactory(gestionnaire=True)
    with pytest.raises(PermissionDenied):
        services.inactivate_technicien(technicien, gestionnaire=stranger, reason=InactivationReason.LEFT_STRUCTURE)


def test_a13_reported_account_is_inactivated_at_once_and_its_sessions_end(partenaire, agent):
    gestionnaire = gestionnaire_of(partenaire, username="g1")
    technicien = UserFactory(partenaire=partenaire)
    session = verified_login(Client(), technicien)
    assert session.get(reverse("contacts")).status_code == 200
    incident = habilitations.report_incident(
        technicien, kind=IncidentKind.LOSS, description="Carnet perdu", reported_by=gestionnaire
    )
    habilitations.process_incident(incident, actor=agent)
    technicien.refresh_from_db()
    assert technicien.state == AccountState.INACTIVE
    assert technicien.inactivation_reason == InactivationReason.FRAUD
    assert session.get(reverse("contacts")).status_code == 302


def test_a13_caisse_detection_inactivates_and_notifies_the_partner_with_proof(
    partenaire, agent, django_capture_on_commit_callbacks
):
    only = gestionnaire_of(partenaire, username="g1")
    with django_capture_on_commit_callbacks(execute=True):
        incident = habilitations.caisse_detects_incident(
            UserFactory(partenaire=partenaire, username="suspect"),
            kind=IncidentKind.FRAUD,
            description="Connexions anormales",
            actor=agent,
        )
    assert incident.notified_to == only.email
    assert "suspect" in incident.notification_text
    assert mail.outbox[0].to == [only.email]
    assert mail.outbox[0].body == incident.notification_text


def test_a13_technicien_reports_only_its_own_structure(partenaire):
    with pytest.raises(PermissionDenied):
        habilitations.report_incident(
            UserFactory(partenaire=partenaire), kind=IncidentKind.THEFT, description="Vol", reported_by=UserFactory()
        )


def test_a16_review_is_attested_by_a_gestionnaire_and_late_ones_are_listed(partenaire, agent):
    review = habilitations.request_review(
        HabilitationReview(partenaire=partenaire, due_on=timezone.localdate() + timedelta(days=10)), actor=agent
    )
    later = timezone.localdate() + timedelta(days=11)
    assert list(HabilitationReview.objects.late(later)) == [review]
    with pytest.raises(PermissionDenied):
        habilitations.attest_review(review, gestionnaire=UserFactory(gestionnaire=True))
    habilitations.attest_review(review, gestionnaire=gestionnaire_of(partenaire))
    assert not HabilitationReview.objects.late(later).exists()


def test_a16_gestionnaire_exports_the_habilitation_table(client, partenaire):
    gestionnaire = gestionnaire_of(partenaire, username="g1", last_name="Delattre")
    UserFactory(partenaire=partenaire, last_name="Fontaine", created_by=gestionnaire)
    UserFactory(last_name="Etranger")
    verified_login(client, gestionnaire)
    response = client.get(reverse("accounts_export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeffIdentifiant;Civilité;Nom")
    assert "Fontaine" in content and "Delattre" in content and "Etranger" not in content


def test_a5_no_gestionnaire_before_the_convention_is_signed(agent):
    unsigned = PartenaireFactory()
    DomaineEmailFactory(partenaire=unsigned, domain="structure.example")
    request_obj = habilitations.record_habilitation_request(demand(unsigned, date(2026, 11, 26)), actor=agent)
    with pytest.raises(ValidationError, match="après la signature de la convention"):
        habilitations.accept_habilitation_request(request_obj, actor=agent)
    assert not User.objects.filter(profile="gestionnaire").exists()


def test_a11_scheduled_inactivation_refused_when_it_became_the_last_gestionnaire(partenaire, agent):
    first = gestionnaire_of(partenaire, username="g1")
    second = gestionnaire_of(partenaire, username="g2")
    with time_machine.travel(date(2026, 11, 26), tick=False):
        demand_obj = habilitations.request_gestionnaire_inactivation(first, date(2026, 12, 15), requested_by=second)
        habilitations.apply_gestionnaire_request(demand_obj, actor=agent)
    services.inactivate_account(second, reason=InactivationReason.FRAUD, actor=agent)
    with time_machine.travel(date(2026, 12, 15), tick=False):
        assert habilitations.run_scheduled_inactivations() == 0
    demand_obj.refresh_from_db()
    first.refresh_from_db()
    assert demand_obj.status == RequestStatus.REFUSED and "dernier gestionnaire" in demand_obj.refusal_reason
    assert first.state == AccountState.ACTIF


def test_a10_modification_is_not_applied_to_an_inactivated_account(partenaire, agent):
    asking = gestionnaire_of(partenaire, username="g1")
    target = gestionnaire_of(partenaire, username="g2")
    demand_obj = habilitations.request_gestionnaire_modification(
        target, {"job_title": "Directrice"}, requested_by=asking
    )
    services.inactivate_account(target, reason=InactivationReason.FRAUD, actor=agent)
    with pytest.raises(ValidationError, match="plus actif"):
        habilitations.apply_gestionnaire_request(demand_obj, actor=agent)


def test_a13_caisse_may_inactivate_the_last_gestionnaire_and_the_incident_shows_nobody_was_told(partenaire, agent):
    only = gestionnaire_of(partenaire, username="g1")
    incident = habilitations.caisse_detects_incident(only, kind=IncidentKind.FRAUD, description="Vol", actor=agent)
    only.refresh_from_db()
    assert only.state == AccountState.INACTIVE
    assert incident.notified_at is None and incident.notified_to == ""
