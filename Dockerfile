# Espace Partenaires: the Django application image (web, Celery worker and beat share it).
# Build: docker compose build          Run: see docker-compose.yml
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libmagic1: python-magic identifies uploaded files from their content.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer (rebuilt only when pyproject.toml changes).
# pyproject.toml declares no package (packages = []): `pip install .` installs the dependencies.
COPY pyproject.toml README.md* ./
RUN [ -f README.md ] || : > README.md; pip install . && rm -rf build ./*.egg-info

COPY . .

# Static files are collected at build time (served by whitenoise). The key below exists only for
# this command: the running containers must get DJANGO_SECRET_KEY from their environment.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret DJANGO_DEBUG=false \
    python manage.py collectstatic --noinput

# Unprivileged user; the code stays owned by root (read-only for the application).
# /data holds the private attachments and beat's schedule state (named volumes in compose).
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data/private-media /data/beat \
    && chown -R app:app /data
ENV PRIVATE_MEDIA_ROOT=/data/private-media
USER app

EXPOSE 8000
# Workers, threads, worker class and timeouts: gunicorn.conf.py (the values the bench measured, README).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi:application"]
