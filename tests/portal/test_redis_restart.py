"""Availability with a real Redis stopped, then started again, and a real Celery worker: the request filed
while Redis is down is saved and its email waits in the outbox; once Redis is back, the worker sends it, once.

The Redis here is a private `redis-server` on a free port (the shared one on 6379 serves the other tests).
"""

import re
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from core.models import OutboxEmail
from requests_app.models import Demande, DemandeState
from tests.conftest import celery_configured, celery_worker, free_port, subprocess_env
from tests.portal.test_outbox import file_and_answer

JOB_DONE = re.compile(r"Task portal\.tasks\.run_job\[[^\]]+\] succeeded")


def start_redis(binary: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.RedisError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("the private redis-server did not answer")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def redis_server_binary(redis_url):  # redis_url: the suite's Redis check (skip with its reason, fail in CI)
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server introuvable : le test arrête et relance un Redis à lui")
    return binary


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_then_restarted_no_request_and_no_email_lost(redis_server_binary, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    server = start_redis(redis_server_binary, port)
    # The console backend: the worker's log shows each email it sends.
    env = subprocess_env(REDIS_URL=broker, DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    log_path = tmp_path / "worker.log"
    try:
        with (
            celery_worker(env, log_path, "-l", "INFO"),
            celery_configured(broker_url=broker, task_always_eager=False) as app,
        ):
            assert wait_for(lambda: app.control.ping(timeout=0.5)), log_path.read_text()[-2000:]

            stop(server)  # Redis goes down
            demande = file_and_answer()

            # Filed and answered all the same; the email waits.
            assert Demande.objects.get(pk=demande.pk).state == DemandeState.EN_COURS
            email = OutboxEmail.objects.get(body__contains=demande.reference)
            assert email.sent_at is None

            server = start_redis(redis_server_binary, port)  # Redis is back; the worker reconnects by itself
            OutboxEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=2))
            for _ in range(2):  # the sweeper job, as beat sends it every minute: twice, still one email
                app.send_task("portal.tasks.run_job", args=("emails_en_attente",))
            assert wait_for(lambda: OutboxEmail.objects.get(pk=email.pk).sent_at is not None), log_path.read_text()[
                -3000:
            ]
            # Both runs done (the worker takes tasks one at a time): the second one found nothing left to send.
            assert wait_for(lambda: len(JOB_DONE.findall(log_path.read_text())) >= 2), log_path.read_text()[-3000:]
    finally:
        if server.poll() is None:
            stop(server)
    email.refresh_from_db()
    assert email.attempts == 1
    printed = log_path.read_text()
    assert printed.count("Message-ID: ") == 1, printed[-3000:]  # the console backend prints each email sent
    assert demande.reference in printed
