"""Jobs (A14, A15): a worker killed in the middle of a job loses nothing; the next run finishes the work."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AccountState, InactivationReason, User
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conftest import celery_worker, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 400


@pytest.mark.django_db(transaction=True)
def test_a15_purge_killed_mid_way_leaves_whole_batches_and_the_next_run_finishes(redis_url, tmp_path):
    UserFactory.create_batch(
        ACCOUNTS,
        state=AccountState.INACTIVE,
        inactivated_at=timezone.now() - timedelta(days=200),
        inactivation_reason=InactivationReason.LEFT_STRUCTURE,
    )
    queue = f"test-kill-{uuid.uuid4().hex}"
    broker = redis_url.rsplit("/", 1)[0] + "/13"
    env = subprocess_env(REDIS_URL=broker, JOBS_BATCH_SIZE="10")
    with celery_worker(env, tmp_path / "worker.log", "-Q", queue, "-l", "WARNING") as worker:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from portal.tasks import run_job; "
                f"run_job.apply_async(('suppression_comptes',), queue='{queue}')",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill it once some batches are done, not all
            done = User.objects.filter(state=AccountState.SUPPRIME).count()
            if done >= 20:
                break
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    purged = User.objects.filter(state=AccountState.SUPPRIME)
    assert 0 < purged.count() < ACCOUNTS, (tmp_path / "worker.log").read_text()[-2000:]
    # Consistent at the kill: every purged account is fully erased, every other one untouched.
    assert not purged.exclude(email="").exists()
    assert not User.objects.filter(state=AccountState.INACTIVE, email="").exists()
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_PURGED).count() == purged.count()
    # The next run finishes the work, once.
    call_command("run_jobs", "suppression_comptes", stdout=StringIO())
    assert User.objects.filter(state=AccountState.SUPPRIME).count() == ACCOUNTS
    assert JournalEntry.objects.filter(action=Action.ACCOUNT_PURGED).count() == ACCOUNTS
