"""A8: the current CGU version is accepted before anything else; who accepted which version is kept."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CGU, CGUAcceptance
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login

pytestmark = pytest.mark.django_db


def publish(version, days_ago=1):
    return CGU.objects.create(
        version=version, body=f"Texte {version}", published_at=timezone.now() - timedelta(days=days_ago)
    )


def test_a8_first_login_requires_accepting_the_cgu(client):
    cgu = publish("1")
    user = UserFactory()
    verified_login(client, user)
    response = client.get(reverse("contacts"))
    assert response.status_code == 302 and response.url.startswith(reverse("cgu"))
    response = client.post(reverse("cgu"), {"next": "/contacts/"})
    assert "Cochez la case" in response.content.decode()
    response = client.post(reverse("cgu"), {"accept": "on", "next": "/contacts/"}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302 and response.url == "/contacts/"
    acceptance = CGUAcceptance.objects.get(user=user)
    assert acceptance.cgu == cgu and acceptance.ip == "203.0.113.5" and acceptance.accepted_at
    assert client.get(reverse("contacts")).status_code == 200


def test_a8_a_new_version_requires_accepting_again(client):
    user = UserFactory()
    CGUAcceptance.objects.create(user=user, cgu=publish("1", days_ago=10))
    verified_login(client, user)
    assert client.get(reverse("contacts")).status_code == 200
    publish("2")
    assert client.get(reverse("contacts")).url.startswith(reverse("cgu"))
    client.post(reverse("cgu"), {"accept": "on"})
    assert list(
        CGUAcceptance.objects.filter(user=user).values_list("cgu__version", flat=True).order_by("cgu__version")
    ) == ["1", "2"]


def test_a8_a_version_published_in_the_future_is_not_yet_required(client):
    publish("futur", days_ago=-3)
    verified_login(client, UserFactory())
    assert client.get(reverse("contacts")).status_code == 200


def test_a8_caisse_staff_are_not_asked(client):
    publish("1")
    verified_login(client, UserFactory(agent=True))
    assert client.get(reverse("home")).status_code == 200
