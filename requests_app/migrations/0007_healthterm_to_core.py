# HealthTerm (the free-text guard's lexicon) now belongs to the base app (core): removed from requests_app's
# migration state only. Its table (requests_app_healthterm) and rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0006_sensitive_lexicon"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="HealthTerm")],
        ),
    ]
