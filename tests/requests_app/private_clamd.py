"""A private clamd for the tests that stop and start one: its own configuration, the EICAR-only signature
file, a free port (the clamd of scripts/services.sh serves the other tests)."""

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.requests_app import files


def clamd_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"zPING\0")
            return sock.recv(16).startswith(b"PONG")
    except OSError:
        return False


class PrivateClamd:
    def __init__(self, binary: str, directory: Path):
        self.binary, self.directory, self.port = binary, directory, free_port()
        (directory / "db").mkdir(parents=True)
        (directory / "tmp").mkdir()
        hexadecimal = files.eicar().hex()
        (directory / "db" / "test.ndb").write_text(f"Eicar-Test-Signature:0:*:{hexadecimal}\n")
        self.config = directory / "clamd.conf"
        self.config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {directory / 'db'}",
                    f"TemporaryDirectory {directory / 'tmp'}",
                    f"LogFile {directory / 'clamd.log'}",
                    "SelfCheck 0",
                    "Bytecode no",
                    "",
                ]
            )
        )
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, f"--config-file={self.config}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while not clamd_answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"the private clamd did not start: {(self.directory / 'clamd.log').read_text()[-1000:]}")
            time.sleep(0.1)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        assert not clamd_answers(self.port)
