"""Shared fixtures. Tests use the real services; a missing one skips its tests, and CI=true fails on skips."""

import os
import socket
from contextlib import contextmanager

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright share the thread

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
