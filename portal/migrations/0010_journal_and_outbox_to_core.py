# JournalEntry and OutboxEmail now belong to the base app (core): removed from portal's migration state only.
# Their tables (portal_journalentry, portal_outboxemail), rows and trigger stay where they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0009_consistency_actions"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="JournalEntry"),
                migrations.DeleteModel(name="OutboxEmail"),
            ],
        ),
    ]
