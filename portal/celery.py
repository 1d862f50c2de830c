"""Celery application: Redis broker from REDIS_URL, static beat schedule (Europe/Paris)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Versioned schedules live here, in code (one beat only); jobs come with the life-cycle issue.
app.conf.beat_schedule = {}
