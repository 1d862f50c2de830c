"""CSV files that open cleanly in a French spreadsheet: UTF-8 with BOM, semicolons, no formulas."""

import csv
from collections.abc import Iterable

from django.db import connection, transaction
from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def stream_rows(queryset, chunk_size: int = 5000):
    """The rows of an export, read through a server-side cursor in one transaction: memory stays flat, and the
    planner is told that every row will be read (not the first few: for a big structure it would walk the whole
    table's date index to spare a sort of that structure's rows)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
        yield from queryset.iterator(chunk_size=chunk_size)


def safe_cell(value) -> str:
    """A cell a spreadsheet will not run: a leading =, +, -, @ (CSV injection) is quoted away."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """Streamed, so a long history is never built in memory."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
