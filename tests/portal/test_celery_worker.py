"""The scheduled jobs: a real Celery worker, in-process, on the real Redis broker, runs a scheduled job (not eager)."""

import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from accounts.models import AccountState, InactivationReason, User
from portal.celery import app
from portal.jobs import JOBS
from portal.tasks import run_job
from tests.accounts.factories import UserFactory
from tests.conftest import celery_configured


@pytest.fixture
def redis_app(redis_url):
    """The project's Celery app pointed at a Redis database of its own for the test."""
    broker = redis_url.rsplit("/", 1)[0] + "/14"
    with celery_configured(broker_url=broker, task_always_eager=False, result_backend=None) as worker_app:
        # A queue of its own: another test run on the same Redis never takes this test's tasks.
        yield worker_app, f"test-{uuid.uuid4().hex}"


def test_the_beat_schedule_lists_every_job_in_paris_time():
    assert set(app.conf.beat_schedule) == {job.name for job in JOBS}
    assert all(entry["task"] == "portal.tasks.run_job" for entry in app.conf.beat_schedule.values())
    assert app.conf.timezone == "Europe/Paris"


@pytest.mark.django_db(transaction=True)
def test_a15_a_real_worker_runs_the_purge_sent_through_redis(redis_app):
    worker_app, queue = redis_app
    account = UserFactory(
        state=AccountState.INACTIVE,
        inactivated_at=timezone.now() - timedelta(days=200),
        inactivation_reason=InactivationReason.LEFT_STRUCTURE,
    )
    with start_worker(worker_app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue]):
        result = run_job.apply_async(("suppression_comptes",), queue=queue)
        assert result.id  # every task carries an id
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if User.objects.get(pk=account.pk).state == AccountState.SUPPRIME:
                break
            time.sleep(0.2)
    assert User.objects.get(pk=account.pk).state == AccountState.SUPPRIME
