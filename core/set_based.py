"""A batch changed in one statement: the UPDATE … RETURNING of the locked rows, and what follows from it —
history rows (`core.history.insert_sql`), journal entries (`core.audit.entries_sql`), dependent rows — as
data-modifying CTEs reading its RETURNING rows. One round trip, nothing built row by row in Python: a batch
costs the same whatever its size, and about what the same change written by hand in SQL costs.

Every part of such a statement sees the tables as they were before it: the RETURNING rows are the only view
of the changed values (history copies them), the tables still give what the change leaves alone (labels).
"""

from django.db import connections, models
from django.db.models.expressions import RawSQL


def locked_sql(queryset: models.QuerySet, *, using="default") -> tuple[str, list]:
    """(sql, params) of the condition "a row of `queryset` no other transaction holds", locking those rows
    (`SKIP LOCKED`: two workers never change the same row)."""
    locked = queryset.select_for_update(skip_locked=True, of=("self",)).order_by().only("pk")
    select, params = locked.query.sql_with_params()
    pk = connections[using].ops.quote_name(queryset.model._meta.pk.column)
    return f"{pk} IN ({select})", list(params)


def update_sql(model, changes: dict, where: str, params=(), *, using="default") -> tuple[str, list]:
    """(sql, params) of the UPDATE setting `changes` (field name → value, or RawSQL computed for each row)
    on the rows of `model`'s table that `where` selects, returning every column of the changed rows."""
    connection = connections[using]
    quote = connection.ops.quote_name
    assignments, values = [], []
    for name, value in changes.items():
        field = model._meta.get_field(name)
        if isinstance(value, RawSQL):
            assignments.append(f"{quote(field.column)} = ({value.sql})")
            values.extend(value.params)
        else:
            assignments.append(f"{quote(field.column)} = %s")
            values.append(field.get_db_prep_save(value, connection))
    # Names from the models' metadata; every value goes as a parameter.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} WHERE {where} RETURNING *"  # noqa: S608
    return sql, [*values, *params]


def delete_sql(model, field: str, source: str, *, using="default") -> tuple[str, list]:
    """(sql, params) of the DELETE of `model`'s rows whose `field` names a row of the CTE `source`."""
    quote = connections[using].ops.quote_name
    column = model._meta.get_field(field).column
    return f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(column)} IN (SELECT id FROM {source})", []  # noqa: S608


def rows_of(model, source: str) -> models.QuerySet:
    """`model`'s rows named by the CTE `source` (their unchanged columns: labels, names)."""
    return model.objects.filter(pk__in=RawSQL(f"SELECT id FROM {source}", ()))  # noqa: S608, S611


def run(steps: list[tuple[str, tuple[str, list]]], final: str, *, using="default") -> list[tuple]:
    """Run `WITH name AS (sql), … final` and return its rows; a step with no SQL (history off) is left out."""
    parts, params = [], []
    for name, (sql, step_params) in steps:
        if sql:
            parts.append(f"{name} AS ({sql})")
            params.extend(step_params)
    with connections[using].cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {final}", params)
        return cursor.fetchall()
