"""Several Celery workers, one beat (README, « Plusieurs nœuds ») — A15: two real workers running the same nightly
job at once (a beat tick delivered twice, or two beats by mistake) never process an account twice, and together
finish the work. The batches are claimed with SELECT … FOR UPDATE SKIP LOCKED (accounts.lifecycle)."""

import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountState, InactivationReason, User
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conftest import ROOT, celery_worker, subprocess_env

ACCOUNTS = 300

pytestmark = pytest.mark.redis


@pytest.mark.django_db(transaction=True)
def test_a15_two_workers_running_the_purge_at_once_erase_each_account_once_and_finish(redis_url, tmp_path):
    UserFactory.create_batch(
        ACCOUNTS,
        state=AccountState.INACTIVE,
        inactivated_at=timezone.now() - timedelta(days=200),
        inactivation_reason=InactivationReason.LEFT_STRUCTURE,
    )
    queue = f"test-two-workers-{uuid.uuid4().hex}"
    env = subprocess_env(REDIS_URL=redis_url.rsplit("/", 1)[0] + "/13", JOBS_BATCH_SIZE="5")
    options = ("-Q", queue, "-l", "INFO", "--without-gossip", "--without-mingle")
    with (
        celery_worker(env, tmp_path / "a.log", "-n", f"a-{queue}@%h", *options),
        celery_worker(env, tmp_path / "b.log", "-n", f"b-{queue}@%h", *options),
    ):
        deadline = time.monotonic() + 60  # both listening before the ticks arrive: the two runs overlap
        while time.monotonic() < deadline and not all(
            " ready." in (tmp_path / log).read_text() for log in ("a.log", "b.log")
        ):
            time.sleep(0.2)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from portal.tasks import run_job\n"
                f"for _ in range(2): run_job.apply_async(('suppression_comptes',), queue='{queue}')",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and User.objects.filter(state=AccountState.INACTIVE).exists():
            time.sleep(0.2)
    logs = (tmp_path / "a.log").read_text()[-1500:] + (tmp_path / "b.log").read_text()[-1500:]
    assert User.objects.filter(state=AccountState.SUPPRIME).count() == ACCOUNTS, logs
    purges = JournalEntry.objects.filter(action=Action.ACCOUNT_PURGED)
    assert purges.count() == ACCOUNTS, logs  # one journal entry per account: none purged twice
    assert purges.values("target_id").distinct().count() == ACCOUNTS
    # Both runs took batches (two run ids), side by side.
    assert purges.values("run_id").distinct().count() == 2, logs
