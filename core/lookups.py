"""`field__any=[…]`: one array parameter (`= ANY(%s)`) instead of `IN (%s, %s, …)`, one placeholder per value.

For the jobs' batches of hundreds of ids or thousands of values: building, quoting and splitting an IN list of 500
placeholders cost more than the statement itself (the purge, make bench). Elsewhere than PostgreSQL (`make run` on
SQLite), the plain IN list."""

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        values = [self.lhs.output_field.get_db_prep_value(value, connection) for value in self.rhs]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not values:
            return "1 = 0", []
        if connection.vendor != "postgresql":
            return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # a relation's lookups are its own, not Field's
