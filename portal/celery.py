"""Celery application: Redis broker from REDIS_URL, static beat schedule (Europe/Paris)."""

import os

from celery import Celery

from .jobs import JOBS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule():
    return {job.name: {"task": "portal.tasks.run_job", "schedule": job.schedule, "args": (job.name,)} for job in JOBS}


# Versioned schedules, in code (one beat only), in Europe/Paris time (CELERY_TIMEZONE).
app.conf.beat_schedule = _beat_schedule()
