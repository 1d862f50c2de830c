"""The health endpoint asks the real services: PostgreSQL, Redis, clamd, the S3 object store."""

import socket

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_service_up(client, settings, clamd_address, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "clamd": "ok", "redis": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_names_the_service_that_is_down(client, settings, clamd_address, redis_url):
    settings.REDIS_URL = redis_url
    settings.CLAMD_PORT = _closed_port()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "clamd": "indisponible", "redis": "ok"}


@pytest.mark.s3
def test_healthz_checks_the_object_store_when_files_live_there(client, settings, clamd_address, object_storage):
    from tests.conftest import free_port

    assert client.get(reverse("healthz")).json() == {"database": "ok", "clamd": "ok", "stockage": "ok"}
    settings.STORAGES = {**settings.STORAGES, "default": object_storage.storage(secret_key="pas-la-bonne")}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["stockage"] == "indisponible"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": object_storage.storage(endpoint_url=f"http://127.0.0.1:{free_port()}"),
    }
    assert client.get(reverse("healthz")).json()["stockage"] == "indisponible"
