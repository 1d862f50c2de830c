"""The portal behind PgBouncer in transaction pooling mode (the PgBouncer of scripts/services.sh): what Django needs
there (portal.settings, DATABASE_TRANSACTION_POOLING), then a slice of the suite — requests, exports, jobs with
concurrent runs — run again through it, in a pytest of its own on the same test database."""

import os
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import PGBOUNCER_PORT, ROOT, service_unavailable

pytestmark = pytest.mark.pgbouncer

SLICE = (
    "tests/requests_app/test_demandes.py",  # filing, attachments, thread, the history and its CSV export
    "tests/requests_app/test_triage.py",  # the agents' queue and its export
    "tests/accounts/test_lifecycle_set_based.py",  # batch jobs, two runs at once (SKIP LOCKED)
    "tests/portal/test_run_jobs.py",
)


def portal_settings(**env) -> dict:
    """DATABASES of portal.settings loaded in a fresh interpreter with this environment."""
    code = "import json; from portal import settings; print(json.dumps(settings.DATABASES['default'], default=str))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    import json

    return json.loads(result.stdout)


def test_transaction_pooling_disables_what_outlives_a_transaction():
    database = f"postgres://postgres@127.0.0.1:{PGBOUNCER_PORT}/espace_partenaires"
    pooled = portal_settings(
        DATABASE_URL=database, DATABASE_TRANSACTION_POOLING="true", DATABASE_STATEMENT_TIMEOUT_MS="10000"
    )
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["OPTIONS"]["prepare_threshold"] is None  # no server-side prepared statement
    assert "options" not in pooled["OPTIONS"]  # no session-level SET: the pool's connect_query sets the timeout
    direct = portal_settings(DATABASE_URL=database, DATABASE_STATEMENT_TIMEOUT_MS="10000")
    assert direct["OPTIONS"]["options"] == "-c jit=off -c random_page_cost=1.1 -c statement_timeout=10000"
    assert not direct.get("DISABLE_SERVER_SIDE_CURSORS")


def test_a_slice_of_the_suite_passes_through_pgbouncer_in_transaction_mode(django_db_setup, django_db_blocker):
    """Same test database as this session (already created), reached through PgBouncer."""
    from django.db import connection

    with django_db_blocker.unblock():
        params = connection.settings_dict
    # The database the inner pytest derives its test database from: "test_" + this name.
    name = params["NAME"].removeprefix("test_")
    try:
        with psycopg.connect(
            host="127.0.0.1", port=PGBOUNCER_PORT, user=params["USER"], dbname=params["NAME"], connect_timeout=3
        ) as conn:
            assert conn.execute("SHOW transaction_isolation").fetchone()
    except psycopg.Error as exc:
        service_unavailable("PgBouncer", f"127.0.0.1:{PGBOUNCER_PORT} : {exc}")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{params['USER']}@127.0.0.1:{PGBOUNCER_PORT}/{name}",
        "DATABASE_TRANSACTION_POOLING": "true",
    }
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reuse-db", "-x", *SLICE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = "\n".join(result.stdout.splitlines()[-25:])
    assert result.returncode == 0, tail
    assert " passed" in tail and "skipped" not in tail, tail
