"""Settings of the bench's gunicorn only: the portal's, plus the floor pages and a query counter.

Never used in production: the floors and the counter exist only under DJANGO_SETTINGS_MODULE=bench.settings.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, MIDDLEWARE, STORAGES

ROOT_URLCONF = "bench.urls"
# Outermost: it counts every query of the request, the middleware's own included.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
# collectstatic of the bench (DJANGO_DEBUG=false serves the manifest), apart from the repository's staticfiles/.
STATIC_ROOT = BASE_DIR / ".bench" / "staticfiles"

# The bench's smoke test (make test) reads static files from the apps rather than running collectstatic.
if os.environ.get("BENCH_STATIC_FROM_APPS"):
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    WHITENOISE_USE_FINDERS = True
