"""Shared fixtures. Tests use the real services; a missing one skips its tests, and CI=true fails on skips."""

import functools
import json
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from core.object_storage import CLIENT_CONFIG, s3_storage

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright share the thread

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[1]
# The S3 identity scripts/services.sh generated for its SeaweedFS (test credentials, never committed).
S3_IDENTITIES = ROOT / ".services" / "seaweedfs" / "s3.json"
S3_ENDPOINT = os.environ.get("S3_TEST_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('S3_PORT') or 8633}"
PGBOUNCER_PORT = int(os.environ.get("PGBOUNCER_PORT") or 6432)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and session.exitstatus == 0:
        reporter.ensure_newline()
        reporter.write_line(
            f"CI=true : {skipped} test(s) ignoré(s) — un service manque (lancez scripts/services.sh up).",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def service_unavailable(name: str, why: str):
    pytest.skip(f"{name} indisponible ({why}) : lancez `scripts/services.sh up`.")


@pytest.fixture
def clamd_address(settings):
    try:
        with socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout=2) as sock:
            sock.sendall(b"zPING\0")
            answer = sock.recv(16)
    except OSError as exc:
        service_unavailable("clamd", str(exc))
    if not answer.startswith(b"PONG"):
        service_unavailable("clamd", f"réponse inattendue {answer!r}")
    return settings.CLAMD_HOST, settings.CLAMD_PORT


@pytest.fixture
def redis_url():
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", str(exc))
    return url


@dataclass(frozen=True)
class Bucket:
    """A bucket of the real object store, with what a test needs to look inside it."""

    name: str
    endpoint_url: str
    access_key: str
    secret_key: str

    @functools.cached_property
    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=CLIENT_CONFIG,
        )

    def storage(self, **changes) -> dict:
        """The STORAGES entry of this bucket (the portal's own, core.object_storage), with `changes`."""
        values = {"bucket": self.name, "endpoint_url": self.endpoint_url, "access_key": self.access_key}
        values |= {"secret_key": self.secret_key, "region": "us-east-1"}
        return s3_storage(**{**values, **changes})

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def empty(self) -> None:
        for key in self.keys():
            self.client.delete_object(Bucket=self.name, Key=key)


@pytest.fixture(scope="session")
def s3_bucket():
    """A bucket of its own for this test session (helpers and CI runs share the server) on the real SeaweedFS
    of scripts/services.sh, with its test identity; removed at the end."""
    try:
        identity = json.loads(S3_IDENTITIES.read_text())["identities"][0]["credentials"][0]
        bucket = Bucket(f"tests-{uuid.uuid4().hex[:16]}", S3_ENDPOINT, identity["accessKey"], identity["secretKey"])
        bucket.client.create_bucket(Bucket=bucket.name)
    except (OSError, ValueError, KeyError, IndexError, BotoCoreError, ClientError) as exc:
        service_unavailable("Stockage objet S3 (SeaweedFS)", f"{S3_ENDPOINT}, {S3_IDENTITIES.name} : {exc}")
    yield bucket
    bucket.empty()
    bucket.client.delete_bucket(Bucket=bucket.name)
    bucket.client.close()


@pytest.fixture
def object_storage(settings, s3_bucket, monkeypatch):
    """The portal's private files in the session's bucket (emptied before the test), as in production."""
    from storages.backends.s3 import S3Storage

    # Each storage the test builds (a settings change builds a new one) keeps its connection pool: closed at the end.
    opened = []
    connection = S3Storage.connection

    def tracked(storage):
        resource = connection.fget(storage)
        opened.append(resource)
        return resource

    monkeypatch.setattr(S3Storage, "connection", property(tracked))
    s3_bucket.empty()
    settings.STORAGES = {**settings.STORAGES, "default": s3_bucket.storage()}
    yield s3_bucket
    for resource in opened:
        resource.meta.client.close()


@pytest.fixture
def pgbouncer_port(db):
    """The PgBouncer of scripts/services.sh (transaction pooling), once it routes a query to our database."""
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    try:
        with psycopg.connect(
            host="127.0.0.1", port=PGBOUNCER_PORT, user=params["USER"], dbname=params["NAME"], connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        service_unavailable("PgBouncer", f"127.0.0.1:{PGBOUNCER_PORT} : {exc}")
    return PGBOUNCER_PORT


def verified_login(client, user):
    """Sign in as a user who passed the two-factor step (a confirmed TOTP device, verified session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Téléphone de test", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def login_verified(client):
    return lambda user: verified_login(client, user)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The real password code paths with a cheap hash: PBKDF2 costs ~0.2 s per password in every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fallback_snapshot_file(settings, tmp_path):
    """P8: the copy of the fallback channels that saving one writes, in the test's own folder."""
    settings.FALLBACK_CHANNELS_FILE = str(tmp_path / "canaux_secours.json")
    settings.FALLBACK_CHANNELS_REDIS_URL = ""  # the shared copy only where a test asks for it, with its own key
    return settings.FALLBACK_CHANNELS_FILE


def load_health_lexicon():
    """The migration's health terms, loaded again (idempotent): a transactional test flushes them."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = import_module("requests_app.migrations.0001_health_lexicon")
    # The migration names the model where it was then (requests_app); it now lives in core.
    moved = SimpleNamespace(get_model=lambda app_label, name: apps.get_model("core", name))
    migration.load_health_lexicon(moved, SimpleNamespace(connection=connection))


@pytest.fixture
def health_lexicon(db):
    load_health_lexicon()


@pytest.fixture
def private_media(settings, tmp_path):
    """Attachments and documents in a temporary private storage (a live server reads the same settings)."""
    media = tmp_path / "media"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    return media


@contextmanager
def celery_configured(**conf):
    """The project's Celery app with other settings for a test; connection pools dropped both ways."""
    from portal.celery import app

    def drop_pools():
        app.close()
        app.amqp._producer_pool = None  # built on the previous connection pool

    saved = {key: app.conf[key] for key in conf}
    drop_pools()
    app.conf.update(conf)
    try:
        yield app
    finally:
        drop_pools()
        app.conf.update(saved)


def free_port() -> int:
    """A local TCP port where nothing answers (for a service said to be down, or a private one to start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**overrides) -> dict:
    """The environment of a portal process started by a test (a worker, a script): the test's own database
    unless told otherwise, and the production settings module."""
    from django.db import connection

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **overrides,
    }


@contextmanager
def celery_worker(env: dict, log_path, *options):
    """A real Celery worker process of the project (solo pool, its own process group so that it can be killed
    whole), its output in `log_path`; killed on the way out if still running."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", *options],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield worker
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
