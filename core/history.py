"""Model history (django-simple-history) for changes made in bulk, which send no signal and so leave no
history row by themselves.

`insert_sql` is the one writer of those rows: an INSERT … SELECT that copies the columns simple-history
tracks from the rows as they now are — a query, or the RETURNING rows of the UPDATE that changed them, in
the same statement. `record_updates` runs it after a `QuerySet.update()`. The result is the row `save()`
would have written, without loading the rows into Python nor sending them back.
"""

from datetime import datetime

from django.conf import settings
from django.db import connections, models
from django.utils import timezone


def insert_sql(model, source: str, *, reason: str | None = None, when: datetime | None = None, using="default"):
    """(sql, params) of the INSERT writing one "~" history row of `model` for each row of `source`: SQL
    naming rows with the model's columns — a subquery in parentheses, or a data-modifying CTE's name.
    Empty SQL when history is off (as simple-history itself).

    The author is the signed-in user of the web request (simple-history's middleware), as `save()` would
    record it; none in a job."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return "", []
    history = model.history.model
    connection = connections[using]
    user = history.get_default_history_user(None)
    history_field = {field.attname: field for field in history._meta.concrete_fields}
    tracked = [field.attname for field in history.tracked_fields]
    extra = {
        "history_date": when or timezone.now(),
        "history_type": "~",
        "history_change_reason": reason,
        "history_user_id": user.pk if user is not None else None,
    }
    quote = connection.ops.quote_name
    columns = [quote(history_field[name].column) for name in [*tracked, *extra]]
    copied = [f"changed.{quote(model._meta.get_field(name).column)}" for name in tracked]
    params = [history_field[name].get_db_prep_save(value, connection) for name, value in extra.items()]
    # Names from the models' metadata; every value goes as a parameter.
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(copied)}, {', '.join(['%s'] * len(extra))} FROM {source} changed"
    )
    return sql, params


def record_updates(queryset: models.QuerySet, *, reason: str | None = None, when: datetime | None = None) -> int:
    """One "~" history row for each row of `queryset` (call it after the update, in the same transaction)."""
    model = queryset.model
    tracked = [field.attname for field in model.history.model.tracked_fields]
    select, select_params = queryset.order_by().values_list(*tracked).query.sql_with_params()
    sql, params = insert_sql(model, f"({select})", reason=reason, when=when, using=queryset.db)
    if not sql:
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*params, *select_params])  # the constants come first in the SELECT
        return cursor.rowcount
