"""With the database or the object store down, the portal answers a French 503 page, never a traceback."""

import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from psycopg.errors import QueryCanceled

from core.object_storage import OBJECT_STORE_ERRORS

logger = logging.getLogger(__name__)
UNAVAILABLE = (OperationalError, InterfaceError)


def unavailable_response() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
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
