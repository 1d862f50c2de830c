"""Health of the services the portal depends on: database, Redis and the object store (when configured), clamd."""

import socket

import redis
from django.conf import settings
from django.core.files.storage import storages
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


def check_object_storage() -> None:
    # A name that never exists: the store answers "absent" with our credentials, or raises (down, refused).
    storages["default"].exists("healthz/sonde")


def report() -> dict[str, str]:
    """{service: "ok" | "indisponible"}; Redis and the object store are only checked when the deployment uses them."""
    checks = {"database": check_database, "clamd": check_clamd}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    if settings.STORAGES["default"]["BACKEND"].endswith(".S3Storage"):
        checks["stockage"] = check_object_storage
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:  # any failure means "down"
            results[name] = "indisponible"
        else:
            results[name] = "ok"
    return results
