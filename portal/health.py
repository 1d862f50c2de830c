"""Health of the services the portal depends on: database, Redis (when configured), clamd."""

import socket

import redis
from django.conf import settings
from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()


def check_clamd() -> None:
    with socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout=3) as sock:
        sock.settimeout(3)
        sock.sendall(b"zPING\0")
        if not sock.recv(16).startswith(b"PONG"):
            raise ConnectionError("clamd n'a pas répondu PONG")


def report() -> dict[str, str]:
    """{service: "ok" | "indisponible"}; Redis is only checked when the deployment uses it."""
    checks = {"database": check_database, "clamd": check_clamd}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:  # any failure means "down"
            results[name] = "indisponible"
        else:
            results[name] = "ok"
    return results
