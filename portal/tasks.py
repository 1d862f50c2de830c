"""Celery tasks: thin wrappers around the jobs' service functions."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from .jobs import BY_NAME

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(OperationalError, InterfaceError, BrokerError),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=8,
    acks_late=True,
)
def run_job(self, name: str) -> int:
    """Run one job; a lost database or broker connection retries later (the job resumes where it stopped)."""
    job = BY_NAME[name]
    changed = job.run(run_id=f"{job.name}:{self.request.id}" if self.request.id else None)
    logger.info("tâche %s (%s) : %s ligne(s) modifiée(s)", job.name, self.request.id, changed)
    return changed
