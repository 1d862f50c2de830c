"""Bulk loading helpers for the bench data: COPY with the model's own defaults, history rows, sequences."""

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection
from django.db.models import NOT_PROVIDED


def _database_fills(f) -> bool:
    """A generated column, or one with a database default: PostgreSQL writes it itself."""
    return getattr(f, "generated", False) or getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


def _defaults(model, given: set[str]) -> dict:
    """The database value of every concrete field the rows do not give: its default, or NULL, or ''."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname in given or f.primary_key or _database_fills(f):
            continue
        if f.default is NOT_PROVIDED and not f.null and not f.empty_strings_allowed:
            raise ValueError(f"{model.__name__}.{f.name} : aucune valeur ni valeur par défaut pour le banc")
        values[f.column] = f.get_db_prep_save(f.get_default(), connection)
    return values


def copy_rows(model, rows: list[dict]) -> int:
    """COPY `rows` (dicts keyed by attname) into the model's table; what a row lacks takes the field's default.

    Robust to a field added later with a default: the bench keeps loading without a change here.
    """
    if not rows:
        return 0
    attnames = list(dict.fromkeys(key for row in rows for key in row))
    fields = {f.attname: f for f in model._meta.concrete_fields}
    missing = {a: fields[a].get_db_prep_save(fields[a].get_default(), connection) for a in attnames}
    defaults = _defaults(model, set(attnames))
    columns = [fields[a].column for a in attnames] + list(defaults)
    tail = tuple(defaults.values())
    sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(tuple(row[a] if a in row else missing[a] for a in attnames) + tail)
    return len(rows)


def insert_defaults_sql(model, given_columns: list[str]) -> tuple[list[str], list]:
    """For an INSERT … SELECT: the columns the SELECT does not give, and their default values as parameters."""
    by_column = {f.column: f.attname for f in model._meta.concrete_fields}
    defaults = _defaults(model, {by_column[c] for c in given_columns})
    return list(defaults), list(defaults.values())


def history_columns(model) -> list[str]:
    historical = model.history.model
    return [
        f.column
        for f in historical._meta.concrete_fields
        if not f.name.startswith("history_") and not getattr(f, "generated", False)
    ]


def insert_history(model, history_type: str, *, where: str = "", reason: str | None = None) -> None:
    """One django-simple-history row per row of the model (created: '+'), as the ORM would have written."""
    columns = ", ".join(history_columns(model))
    table = model.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}, history_date, history_change_reason, history_type, history_user_id) "
            f"SELECT {columns}, now(), %s, %s, NULL FROM {model._meta.db_table} {'WHERE ' + where if where else ''}",
            [reason, history_type],
        )


def reset_sequences() -> None:
    """Rows were loaded with explicit ids: the identity sequences start after them."""
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
