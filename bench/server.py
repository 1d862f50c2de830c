"""The bench's gunicorn: the repository's gunicorn.conf.py, production settings (DJANGO_DEBUG=false) on plain
HTTP at 127.0.0.1, bench.settings for the floors and the query counter."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(database_url: str, **overrides) -> dict:
    """Production settings on plain HTTP: no HTTPS redirect, no secure-only cookies, no HSTS."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_HSTS_SECONDS="0",
        LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"),
        GUNICORN_ACCESS_LOG="",
    )
    env.update(overrides)
    return env


def collectstatic(env: dict) -> None:
    """DJANGO_DEBUG=false serves the collected, hashed files (once; bench.settings puts them under .bench/)."""
    if (ROOT / ".bench" / "staticfiles" / "staticfiles.json").exists():
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=600
    )


class Gunicorn:
    def __init__(self, env: dict, *, log_path: Path, workers=None, threads=None, worker_class=None):
        self.port = free_port()
        self.env = dict(env, GUNICORN_BIND=f"127.0.0.1:{self.port}")
        for name, value in (("WORKERS", workers), ("THREADS", threads), ("WORKER_CLASS", worker_class)):
            if value is not None:
                self.env[f"GUNICORN_{name}"] = str(value)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        e = self.env
        return (
            f"{e.get('GUNICORN_WORKER_CLASS', 'gthread')} {e.get('GUNICORN_WORKERS', 2)}×{e.get('GUNICORN_THREADS', 4)}"
        )

    def start(self, timeout: float = 60) -> "Gunicorn":
        self.log = open(self.log_path, "a")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "portal.wsgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté (voir {self.log_path})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    if self.workers():
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn ne répond pas (voir {self.log_path})")

    def workers(self) -> list[int]:
        """The worker processes (children of the master)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process in KiB (VmRSS now, VmHWM its peak so far)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
