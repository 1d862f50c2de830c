"""Production settings: refused without a secret key, clean under `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="portail.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY est obligatoire" in result.stderr


def test_production_settings_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 20 + "-production-like-secret-key-for-the-check-" + "y" * 20,
        DJANGO_ALLOWED_HOSTS="portail.example",
    )
    assert result.returncode == 0, result.stderr


def test_unsafe_production_settings_fail_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 20 + "-production-like-secret-key-for-the-check-" + "y" * 20,
        DJANGO_ALLOWED_HOSTS="portail.example",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr or "security.W012" in result.stderr


STATEMENT = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])\n"
    "    cursor.execute('SELECT pg_sleep(0.3)'); print('fini')\n"
)


def test_statement_timeout_stops_a_slow_statement_of_the_web_processes_only():
    """A web process (DATABASE_STATEMENT_TIMEOUT_MS set) has its slow statement stopped by PostgreSQL; a job
    or a migration (the variable unset) runs to its end."""
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    web = manage("shell", "--no-imports", "-c", STATEMENT, DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT_MS="100")
    assert web.stdout.startswith("100ms") and "fini" not in web.stdout
    assert "canceling statement due to statement timeout" in web.stderr
    job = manage("shell", "--no-imports", "-c", STATEMENT, DATABASE_URL=url)
    assert job.returncode == 0 and job.stdout.split() == ["0", "fini"], job.stderr
