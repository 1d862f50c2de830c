"""Settings of the Espace Partenaires portal: one module, driven by environment variables.

Safe defaults for development; production refuses to start without a secret key
(`DJANGO_DEBUG=false`) and `manage.py check --deploy` flags unsafe values.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from core.object_storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY est obligatoire lorsque DJANGO_DEBUG=false.")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "django.forms",  # after dsfr: its widget templates (radio, checkbox groups) take precedence
    "simple_history",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "axes",
    # The base first: it imports no app of the project (see README, « Organisation du code »).
    "core",
    "portal",
    "accounts",
    "conventions",
    "requests_app",
    # The performance bench's data command; its pages and middleware only in bench.settings.
    "bench",
]

MIDDLEWARE = [
    "core.reliability.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that renders a page (the lockout page included): every page gets the headers.
    "core.security.ContentSecurityPolicyMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.reliability.NulCharacterMiddleware",
    # Before the account gate: an expired session goes to the login page, with its message.
    "core.security.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The audit context (who, from where) of everything the request journals: after authentication.
    "core.audit_context.AuditContextMiddleware",
    # P8: during an interrupting maintenance or the incident mode, partner pages answer the maintenance page.
    "portal.maintenance.MaintenanceMiddleware",
    "accounts.middleware.AccountGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes: turns a locked-out login into the French lockout page (HTTP 429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
                "portal.context_processors.maintenance_notices",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: DATABASE_URL, else the embedded SQLite file (`make run` with no services).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A statement of a web request is stopped after this many milliseconds (0: never), so that one slow query cannot
# hold a worker while the others wait; the web processes set it (gunicorn.conf.py), jobs and migrations do not.
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 0)
# Behind PgBouncer in transaction pooling mode (README, « Plusieurs nœuds »), a server connection is lent for one
# transaction only: nothing may outlive it. No server-side cursor (an iterator outside a transaction would lose it),
# no prepared statement, no session-level SET or startup option: the web's statement timeout and `jit = off` then
# belong to the pool's connect_query.
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", default=False)
if DATABASE_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT: the portal's queries last milliseconds, and compiling one the planner thinks costly (a count over a
    # caisse's partners, an aggregate over its open requests) took 0.5 to 3 s at 1 M requests (make bench).
    # random_page_cost 1.1 (SSD, data in memory), not the spinning-disk 4: at 4, walking a partner's rows in its
    # index looked dearer than walking the whole table's date index, and a name search read 53,000 rows for 26
    # (25 ms at 1 M requests, 3 ms with 1.1). The compose file sets both on its server, for pooled connections.
    options = ["-c jit=off", "-c random_page_cost=1.1"]
    if DATABASE_STATEMENT_TIMEOUT_MS:
        options.append(f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}")
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(options)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes' lockout check first (core.security.LoginAttemptsBackend is axes' AxesStandaloneBackend).
AUTHENTICATION_BACKENDS = [
    "core.security.LoginAttemptsBackend",
    "accounts.backends.PortalBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous account row (our accounts all have a profile)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password rules (A7): shown on every password form, enforced by these validators.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.HistoryValidator", "OPTIONS": {"history_size": 5}},
]
# Maximum password age in days, per profile (A7); reminders start this many days before expiry.
PASSWORD_MAX_AGE_DAYS_STAFF = env_int("PASSWORD_MAX_AGE_DAYS_STAFF", 180)
PASSWORD_MAX_AGE_DAYS_PARTNER = env_int("PASSWORD_MAX_AGE_DAYS_PARTNER", 365)
PASSWORD_EXPIRY_REMINDER_DAYS = env_int("PASSWORD_EXPIRY_REMINDER_DAYS", 15)
# Activation and password-reset links: single use, valid this many hours.
ACCOUNT_TOKEN_TTL_HOURS = env_int("ACCOUNT_TOKEN_TTL_HOURS", 72)
PASSWORD_RESET_TOKEN_TTL_HOURS = env_int("PASSWORD_RESET_TOKEN_TTL_HOURS", 2)
# After a reset of the second factor, the new device is enrolled only through the link emailed to the account.
TWO_FACTOR_LINK_TTL_HOURS = env_int("TWO_FACTOR_LINK_TTL_HOURS", 72)
# Two-factor authentication (A17): always for staff and gestionnaires; for techniciens by this switch.
TECHNICIEN_2FA_REQUIRED = env_bool("TECHNICIEN_2FA_REQUIRED", default=True)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Espace Partenaires")
# Gestionnaire habilitation requests are processed within this many working days (A5).
HABILITATION_DELAY_WORKING_DAYS = env_int("HABILITATION_DELAY_WORKING_DAYS", 5)
# Absolute URL of the portal in emails (links to activate an account, to read an answer…).
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Private files (signed conventions, attachments): never under a public URL, served by views. A directory by
    # default (`make run`); an S3-compatible object store when OBJECT_STORAGE_BUCKET is set, so that several web
    # nodes share them (README, « Stockage objet »).
    "default": (
        s3_storage(
            bucket=os.environ["OBJECT_STORAGE_BUCKET"],
            endpoint_url=os.environ.get("OBJECT_STORAGE_ENDPOINT_URL", ""),
            access_key=os.environ.get("OBJECT_STORAGE_ACCESS_KEY_ID", ""),
            secret_key=os.environ.get("OBJECT_STORAGE_SECRET_ACCESS_KEY", ""),
            region=os.environ.get("OBJECT_STORAGE_REGION", "us-east-1"),
        )
        if os.environ.get("OBJECT_STORAGE_BUCKET")
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": os.environ.get("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private-media"))},
        }
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Development serves static files from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG

# Background jobs: Redis when REDIS_URL is set, else tasks run in-process (embedded mode).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Scheduled jobs change rows in batches of this size, each batch in its own transaction.
JOBS_BATCH_SIZE = env_int("JOBS_BATCH_SIZE", 500)
# Retention (P6): how long what is not an account is kept; each period is applied by a nightly job
# (portal/jobs.py), from the moment named, in Paris calendar time. Reasons in SECURITY.md, « Durées de conservation ».
# Sent (or given up) emails carry names and links: kept for the support's questions (« je n'ai rien reçu »).
RETENTION_SENT_EMAILS_DAYS = env_int("RETENTION_SENT_EMAILS_DAYS", 30)
# Attachments (NIR, identity papers) after their request is closed: the two months of the appeal to the
# commission de recours amiable (art. R. 142-1 CSS), and a month of margin.
RETENTION_ATTACHMENTS_MONTHS_AFTER_CLOSURE = env_int("RETENTION_ATTACHMENTS_MONTHS_AFTER_CLOSURE", 3)
# The insured's identity and the free texts of a closed request: the two-year prescription of the actions on
# health-insurance benefits and of the recovery of undue ones (art. L. 332-1 CSS); the request stays as a statistic.
RETENTION_REQUEST_IDENTITY_YEARS_AFTER_CLOSURE = env_int("RETENTION_REQUEST_IDENTITY_YEARS_AFTER_CLOSURE", 2)
# Audit journal rows: the CNIL's recommendation on logging (délibération n° 2021-122: six months to a year).
# The database refuses any deletion of a row younger than six months, whatever this setting says.
RETENTION_JOURNAL_MONTHS = env_int("RETENTION_JOURNAL_MONTHS", 12)
if RETENTION_JOURNAL_MONTHS < 6:
    raise ImproperlyConfigured("RETENTION_JOURNAL_MONTHS : six mois au moins (la base refuse d'effacer avant).")
# Redis down must not hold a web request: publishing fails fast and the outbox keeps the email.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1}

# Attachments (D5): size and count limits, minimum image size for readability.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_COUNT = env_int("ATTACHMENT_MAX_COUNT", 5)
ATTACHMENT_MIN_IMAGE_SIDE = env_int("ATTACHMENT_MIN_IMAGE_SIDE", 1000)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES * ATTACHMENT_MAX_COUNT + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Processing delay of a request by the caisse, in working days, per kind (D7 work queues).
DEMANDE_PROCESSING_DAYS = {
    "contact": env_int("DELAY_CONTACT_DAYS", 5),
    "etude_dossier": env_int("DELAY_ETUDE_DOSSIER_DAYS", 15),
    "signalement": env_int("DELAY_SIGNALEMENT_DAYS", 5),
    "rendez_vous": env_int("DELAY_RENDEZ_VOUS_DAYS", 5),
    "document": env_int("DELAY_DOCUMENT_DAYS", 5),
}

# A request the other side changed is shown "Nouveau" (work queues) until opened, or for this many days at most.
DEMANDE_UNREAD_DAYS = env_int("DEMANDE_UNREAD_DAYS", 60)
# P8: the caisses' fallback channels, copied to this file whenever one is saved (and by the job
# `canaux_secours`), for the page served when the database is down. Shared by the web processes.
FALLBACK_CHANNELS_FILE = os.environ.get("FALLBACK_CHANNELS_FILE", str(BASE_DIR / "var" / "canaux_secours.json"))
# P8: with Redis (several web nodes, no shared disk), the copy is also kept there, under this key, and read first.
FALLBACK_CHANNELS_REDIS_URL = os.environ.get("FALLBACK_CHANNELS_REDIS_URL", REDIS_URL)
FALLBACK_CHANNELS_REDIS_KEY = os.environ.get("FALLBACK_CHANNELS_REDIS_KEY", "espace-partenaires:canaux-secours")
# P8: Retry-After (seconds) of the maintenance page in incident mode, which has no planned end.
INCIDENT_RETRY_AFTER_SECONDS = env_int("INCIDENT_RETRY_AFTER_SECONDS", 900)

# Antivirus daemon (requests_app uses it for attachments).
CLAMD_HOST = os.environ.get("CLAMD_HOST", "127.0.0.1")
CLAMD_PORT = env_int("CLAMD_PORT", 3310)
CLAMD_TIMEOUT = env_int("CLAMD_TIMEOUT", 30)

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Espace Partenaires <ne-pas-repondre@localhost>")

# Portal presentation: the État's branding ("République française" block) only where the
# deployment is entitled to it (an Assurance Maladie production deployment).
PORTAL_STATE_BRANDING = env_bool("PORTAL_STATE_BRANDING", default=False)
PORTAL_SITE_TITLE = os.environ.get("PORTAL_SITE_TITLE", "Espace Partenaires")
PORTAL_SITE_TAGLINE = os.environ.get(
    "PORTAL_SITE_TAGLINE", "Accès aux droits et aux soins — le portail des partenaires de l'Assurance Maladie"
)
PORTAL_OPERATOR_NAME = os.environ.get("PORTAL_OPERATOR_NAME", "Assurance Maladie")

# Demo logins exist only on development deployments (refused when DEBUG is off).
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Partenaires-Demo-2026")

# Security: production values unless DEBUG.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Absolute lifetime of a session from the login, whatever the activity (core.security).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session without any request for this long ends (core.security.SessionLifetimeMiddleware).
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
# Client IP for the audit journal and the lockout per address: trust X-Forwarded-For only behind our own proxy.
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("DJANGO_BEHIND_PROXY", False)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): scripts from the portal only, or carrying the page's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features the portal never uses (core.security.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "usb",
        "xr-spatial-tracking",
    )
}

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failures, per identifier and per address, for
# AXES_COOLOFF_MINUTES; a successful login forgets its account's failures.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The wait counts from the lockout: tries during it neither count nor lengthen it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "core.security.LoginAttemptsHandler"
# The address counted per IP: the audit journal's (behind our proxy, the X-Forwarded-For entry it wrote).
AXES_CLIENT_IP_CALLABLE = "core.audit_context.client_ip"
AXES_USERNAME_CALLABLE = "core.security.lockout_username"
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Logins and failures are in the audit journal (portal.signals); no second log, no lockout admin.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False

DEFAULT_EXCEPTION_REPORTER = "core.log_filters.PrivateExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.log_filters.PrivateExceptionReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"template_lookup": {"()": "core.log_filters.TemplateLookupWithoutContext"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # On the logger, not a handler: it holds at any level and for any handler an operator adds.
        "django.template": {"filters": ["template_lookup"]},
    },
}
