"""Model history (django-simple-history) for changes made in bulk by `QuerySet.update()`, which sends no
signal and so leaves no history row by itself.

`record_updates` writes one "changed" row per updated row in a single INSERT … SELECT: the database copies
the columns simple-history tracks from the rows as they now are. The result is the row `save()` would
have written, without loading the rows into Python nor sending them back (building and sending the
historical rows from Python was most of the cost of a batch of inactivations).
"""

from datetime import datetime

from django.conf import settings
from django.db import connections, models
from django.utils import timezone


def record_updates(queryset: models.QuerySet, *, reason: str | None = None, when: datetime | None = None) -> int:
    """One "~" history row for each row of `queryset` (call it after the update, in the same transaction).

    The author is the signed-in user of the web request (simple-history's middleware), as `save()` would
    record it; none in a job."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):  # as simple-history itself
        return 0
    history = queryset.model.history.model
    connection = connections[queryset.db]
    user = history.get_default_history_user(None)
    history_field = {field.attname: field for field in history._meta.concrete_fields}
    tracked = [field.attname for field in history.tracked_fields]
    extra = {
        "history_date": when or timezone.now(),
        "history_type": "~",
        "history_change_reason": reason,
        "history_user_id": user.pk if user is not None else None,
    }
    columns = [history_field[name].column for name in [*tracked, *extra]]
    select, select_params = queryset.order_by().values_list(*tracked).query.sql_with_params()
    extra_params = [history_field[name].get_db_prep_save(value, connection) for name, value in extra.items()]
    quote = connection.ops.quote_name
    # Names from the models' metadata and SQL compiled by Django; every value goes as a parameter.
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608
        f"SELECT changed.*, {', '.join(['%s'] * len(extra))} FROM ({select}) changed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*extra_params, *select_params])
        return cursor.rowcount
