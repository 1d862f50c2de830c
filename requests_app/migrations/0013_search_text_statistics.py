# A search "contains this name" is estimated from the column's histogram. With PostgreSQL's default 100 entries, a
# name in 1 % of the requests was often found in none of them and priced at 0.01 %: the planner then fetched every
# match of the whole table through the trigram index and sorted them (25 ms at 1 M requests, growing with the
# table), instead of walking the caisse's or the structure's own rows newest first until a page is full (4 ms,
# flat). 1,000 entries give the planner the real share; the ANALYZE reads the new sample once.

from django.db import migrations

from core.migration_ops import RunSQLOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("requests_app", "0012_agent_answered_index"),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            [
                "ALTER TABLE requests_app_demande ALTER COLUMN search_text SET STATISTICS 1000",
                "ANALYZE requests_app_demande (search_text)",
            ],
            "ALTER TABLE requests_app_demande ALTER COLUMN search_text SET STATISTICS -1",
        ),
    ]
