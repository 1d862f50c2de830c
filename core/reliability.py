"""With the database or the object store down, the portal answers a French 503 page, never a traceback."""

import json
import logging
import os
import tempfile
from pathlib import Path

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from psycopg.errors import QueryCanceled

from core.object_storage import OBJECT_STORE_ERRORS

logger = logging.getLogger(__name__)
UNAVAILABLE = (OperationalError, InterfaceError)


def _snapshot_redis():
    """The Redis that keeps the copy shared by every web node (P8), or None on a single node without Redis."""
    url = settings.FALLBACK_CHANNELS_REDIS_URL
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) if url else None


def write_snapshot(data, path=None) -> None:
    """Write what a page must show without the database (P8) as JSON: to Redis when there is one (every node
    reads the same copy: no shared disk between nodes), and to this node's file, atomically (a reader never
    sees half a file: a temporary file in the same folder, then renamed over the old one)."""
    if path is None and (shared := _snapshot_redis()) is not None:
        try:
            shared.set(settings.FALLBACK_CHANNELS_REDIS_KEY, json.dumps(data, ensure_ascii=False))
        except redis.RedisError:
            logger.warning("canaux de secours : copie dans Redis impossible, fichier local seulement")
    target = Path(path or settings.FALLBACK_CHANNELS_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_snapshot(path=None):
    """The last snapshot written, or None (never written, unreadable): the page then says so. Redis first
    (the copy every node shares), then this node's file."""
    if path is None and (shared := _snapshot_redis()) is not None:
        try:
            if (copy := shared.get(settings.FALLBACK_CHANNELS_REDIS_KEY)) is not None:
                return json.loads(copy)
        except (redis.RedisError, ValueError):
            logger.warning("canaux de secours : copie Redis injoignable, lecture du fichier local")
    try:
        with open(path or settings.FALLBACK_CHANNELS_FILE, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        logger.warning("canaux de secours : copie illisible ou absente")
        return None


def unavailable_response() -> HttpResponse:
    """The 503 page, rendered without the database: the caisses' fallback channels come from the snapshot."""
    response = HttpResponse(render_to_string("503.html", {"fallback": read_snapshot()}), status=503)
    response["Retry-After"] = "120"
    return response


class DatabaseUnavailableMiddleware:
    """Outermost: also catches the failures of the session and authentication middlewares."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except UNAVAILABLE:
            logger.exception("base de données injoignable")
            return unavailable_response()

    def process_exception(self, request, exception):
        if isinstance(exception.__cause__, QueryCanceled):
            # DATABASE_STATEMENT_TIMEOUT_MS: the worker is free again; the page says to try again.
            logger.error("requête interrompue après %s ms : %s", settings.DATABASE_STATEMENT_TIMEOUT_MS, request.path)
            return unavailable_response()
        if isinstance(exception, UNAVAILABLE) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            logger.error("base de données injoignable : %s", type(exception).__name__)
            return unavailable_response()
        if isinstance(exception, OBJECT_STORE_ERRORS) or isinstance(exception.__cause__, OBJECT_STORE_ERRORS):
            # The object store down where no form catches it (a download, a back-office upload): a French 503.
            logger.error("stockage objet injoignable : %s", type(exception).__name__)
            return unavailable_response()
        return None


class NulCharacterMiddleware:
    """A NUL in the address (?kind=%00) is refused with a French 400 page: PostgreSQL refuses NUL in a query,
    and the admin's list filters pass it on (a DataError, a 500). Forms already refuse it field by field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in "".join([key, *values]) for key, values in request.GET.lists()):
            return render(request, "400.html", status=400)
        return self.get_response(request)
