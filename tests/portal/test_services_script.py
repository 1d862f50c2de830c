"""scripts/services.sh finds a service up only when it does its job: clamd must find the test signature (a clamd
whose database folder was deleted answers PONG and then an empty reply to every scan), the object store must
answer a put/get, PgBouncer must route a query. A broken foreign service is reported on one line, never touched.

The broken services here are small TCP servers of the test on free ports; the script's own services are only read."""

import contextlib
import os
import socket
import subprocess
import threading
from contextlib import contextmanager

import pytest

from tests.conftest import ROOT, free_port

SCRIPT = ROOT / "scripts" / "services.sh"


@contextmanager
def tcp_server(reply):
    """Accepts connections on a free port; `reply(first_bytes)` is what it answers (b"" = hang up)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):  # the script hung up first
                    conn.sendall(reply(conn.recv(64)))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def clamd_without_database(request: bytes) -> bytes:
    return b"PONG\n" if b"PING" in request else b""


def run(command, **env):
    return subprocess.run(
        [str(SCRIPT), command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout


def line_of(output: str, service: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(service))


@pytest.mark.clamd
def test_a_working_clamd_is_ok_because_it_detects_the_test_signature(clamd_address):
    host, port = clamd_address
    assert "signature de test détectée" in line_of(run("status", CLAMD_HOST=host, CLAMD_PORT=str(port)), "clamd")


def test_a_clamd_that_answers_pong_but_scans_nothing_is_not_up():
    with tcp_server(clamd_without_database) as port:
        status = line_of(run("status", CLAMD_PORT=str(port)), "clamd")
        assert "ÉCHEC" in status and "ne détecte pas la signature de test" in status


def test_up_reports_a_broken_foreign_service_on_one_line_and_leaves_it_running():
    with (
        tcp_server(clamd_without_database) as clamd_port,
        tcp_server(lambda _: b"HTTP/1.1 500 Erreur\r\nContent-Length: 0\r\n\r\n") as s3_port,
        tcp_server(lambda _: b"") as pgbouncer_port,
    ):
        output = run("up", CLAMD_PORT=str(clamd_port), S3_PORT=str(s3_port), PGBOUNCER_PORT=str(pgbouncer_port))
        for service, port in (("clamd", clamd_port), ("seaweedfs", s3_port), ("pgbouncer", pgbouncer_port)):
            line = line_of(output, service)
            assert "ÉCHEC" in line and "n'est pas" in line and str(port) in line, output
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass  # still there: not ours to stop


def test_nothing_listening_is_reported_stopped():
    output = run("status", CLAMD_PORT=str(free_port()), S3_PORT=str(free_port()), PGBOUNCER_PORT=str(free_port()))
    for service in ("clamd", "seaweedfs", "pgbouncer"):
        assert "ARRÊTÉ" in line_of(output, service), output
