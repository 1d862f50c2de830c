"""gunicorn settings of the portal: the one place for its concurrency (Dockerfile, docker-compose.yml and the
bench's `make bench` all start gunicorn with `-c gunicorn.conf.py`). Each value may be overridden by the
environment variable named beside it; the defaults are the ones the bench measured (README, « Performance »).
"""

import os

# The web processes stop any SQL statement after 10 s (portal.settings, DATABASE_STATEMENT_TIMEOUT_MS): one slow
# query must not hold a worker while the others queue. Set before the workers load the application.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "10000")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads: a page waiting on PostgreSQL does not hold a whole process; a slow page (a 50,000-row export) does
# not queue the others behind it as a sync worker would.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS") or os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A worker silent this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
