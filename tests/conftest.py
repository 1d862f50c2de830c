"""Shared fixtures. Tests use the real services; a missing one skips its tests, and CI=true fails on skips."""

import os
import socket

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
