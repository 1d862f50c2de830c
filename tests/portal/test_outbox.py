"""D7 notifications, availability: with Redis down, filing a request works and its email is sent once Redis is back."""

import socket
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core import outbox
from core.models import OutboxEmail
from portal.celery import app
from requests_app import services
from requests_app.models import Demande, DemandeKind, DemandeState
from tests.accounts.factories import UserFactory
from tests.conftest import celery_configured
from tests.conventions.factories import partner_with_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    """The application's broker pointed at a port where nothing answers, not in eager mode."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with celery_configured(broker_url=f"redis://127.0.0.1:{port}/0", task_always_eager=False):
        yield


def file_and_answer():
    """A technicien files a request, an agent takes it: the partner is notified by email (D7)."""
    convention = partner_with_access()
    technicien = UserFactory(partenaire=convention.convention_metier.partenaire, email="tech@structure.example")
    agent = UserFactory(agent=True, caisse=convention.convention_metier.caisse)
    demande = services.submit_demande(
        user=technicien,
        caisse=convention.convention_metier.caisse,
        kind=DemandeKind.CONTACT,
        fields={
            "assure_civilite": "m",
            "assure_last_name": "Durand",
            "assure_first_name": "Noé",
            "assure_birth_date": date(1990, 1, 1),
            "assure_departement": "59",
        },
        message="Bonjour",
        form_token=uuid.uuid4(),
    )
    services.change_state(demande, DemandeState.EN_COURS, by=agent)
    return demande


def filed_and_answered(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return file_and_answer()


def test_redis_down_the_request_is_filed_and_its_email_waits(broker_down, django_capture_on_commit_callbacks):
    demande = filed_and_answered(django_capture_on_commit_callbacks)
    assert Demande.objects.get(pk=demande.pk).state == DemandeState.EN_COURS
    assert not mail.outbox
    waiting = OutboxEmail.objects.get()
    assert waiting.sent_at is None and demande.reference in waiting.body


def test_redis_back_the_waiting_email_is_sent_once(broker_down, django_capture_on_commit_callbacks):
    filed_and_answered(django_capture_on_commit_callbacks)
    app.conf.task_always_eager = True  # the broker is back (in-process here)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert outbox.send_pending() == 1
        assert outbox.send_pending() == 0
    (message,) = mail.outbox
    assert message.to == ["tech@structure.example"]
    assert OutboxEmail.objects.get().sent_at is not None


def test_with_redis_up_the_email_goes_at_once(django_capture_on_commit_callbacks):
    filed_and_answered(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert OutboxEmail.objects.get().sent_at is not None
