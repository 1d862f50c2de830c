"""The test suite's settings: production's (portal.settings), on the real PostgreSQL server, with static files
read from the apps (no collectstatic before a test run). Processes a test starts get portal.settings."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/espace_partenaires")

from portal.settings import *  # noqa: E402, F403
from portal.settings import STORAGES  # noqa: E402

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True

# Tasks run in the test's own process whatever REDIS_URL the shell exports; the tests of the real broker and
# worker set theirs explicitly (tests.conftest.celery_configured, subprocess_env).
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
