"""Availability: with the database down, the portal answers a French 503 page, never a traceback."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
for path in ("/connexion/", "/", "/demandes/", "/admin/"):
    response = client.get(path, HTTP_HOST="127.0.0.1")
    answers[path] = [response.status_code, response.content.decode()]
print(json.dumps(answers))
"""


def test_database_down_gives_a_french_503_page():
    env = subprocess_env(  # a PostgreSQL address where nothing answers
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/espace_partenaires", DATABASE_CONN_MAX_AGE="0"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["/connexion/"][0] == 503
    for path, (status, content) in answers.items():
        # Pages that need no database for an anonymous visitor still redirect to the login page.
        assert status in (302, 503), (path, status, content[:300])
        if status == 503:
            assert "Service momentanément indisponible" in content and 'lang="fr"' in content
        assert "Traceback" not in content and "OperationalError" not in content


# --- A real PostgreSQL stopped, then started again, under one running portal process --------------------------

LOOP = """
import sys
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()  # the production path: connections closed or kept as a server does
for _ in sys.stdin:  # one page per line the test writes
    environ = {"PATH_INFO": "/connexion/", "HTTP_HOST": "127.0.0.1"}
    setup_testing_defaults(environ)
    status = []
    result = application(environ, lambda line, headers, exc_info=None: status.append(line))
    body = b"".join(result).decode()
    result.close()  # the end of the request, as a WSGI server signals it
    print(status[0].split()[0], "Service momentanément indisponible" in body, flush=True)
"""


class PrivatePostgres:
    """A throw-away cluster on a free port (initdb, as the postgres user when the tests run as root)."""

    def __init__(self):
        config = shutil.which("pg_config")
        self.bin = Path(subprocess.run([config, "--bindir"], capture_output=True, text=True).stdout.strip())
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="ep-pg-"))
        self.as_postgres = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.run("initdb", "-D", f"{self.directory}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def run(self, tool, *args):
        subprocess.run([*self.as_postgres, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", f"{self.directory}/data", "-o", options, "-l", f"{self.directory}/log", "-w", "start")

    def stop(self):
        self.run("pg_ctl", "-D", f"{self.directory}/data", "-m", "immediate", "-w", "stop")

    def remove(self):
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_postgres(db):
    if shutil.which("pg_config") is None:
        pytest.skip("pg_config introuvable : le test arrête et relance un PostgreSQL à lui")
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_database_stopped_then_started_again_the_same_process_answers_503_then_serves_again(private_postgres):
    from django.db import connection

    source = connection.settings_dict
    schema = subprocess.run(  # the migrated schema of the test database, into the private cluster
        [
            str(private_postgres.bin / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "-h",
            source["HOST"] or "127.0.0.1",
            "-U",
            source["USER"],
            "-p",
            str(source["PORT"] or 5432),
            source["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    subprocess.run(
        [
            str(private_postgres.bin / "psql"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(private_postgres.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ],
        input=schema,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    env = subprocess_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{private_postgres.port}/postgres", DATABASE_CONN_MAX_AGE="60"
    )
    portal = subprocess.Popen(
        [sys.executable, "-c", LOOP],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def page():
        portal.stdin.write("\n")
        portal.stdin.flush()
        return portal.stdout.readline().split()

    try:
        assert page() == ["200", "False"]
        private_postgres.stop()
        assert page() == ["503", "True"]  # the French 503 page, the process still alive
        private_postgres.start()
        assert page() == ["200", "False"]  # and it serves again by itself, without a restart
    finally:
        _, errors = portal.communicate(timeout=30)  # closes its input: the loop ends
    assert "Traceback" not in errors


def test_a_statement_stopped_by_its_timeout_gives_the_french_503_page(rf, caplog):
    """DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels the slow statement; the user gets the 503 page with
    Retry-After, the log says which page was too slow."""
    from django.db import OperationalError
    from psycopg.errors import QueryCanceled

    from core.reliability import DatabaseUnavailableMiddleware

    try:
        try:
            raise QueryCanceled("canceling statement due to statement timeout")
        except QueryCanceled as cause:
            raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        stopped = exc
    response = DatabaseUnavailableMiddleware(lambda request: None).process_exception(rf.get("/demandes/"), stopped)
    assert response.status_code == 503 and response["Retry-After"]
    assert "Service momentanément indisponible" in response.content.decode()
    assert "requête interrompue" in caplog.text and "/demandes/" in caplog.text
