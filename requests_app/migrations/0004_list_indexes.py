# Indexes that match each list's filter and order (D8 history, the caisse's queue, the dashboard, the search).
# Built CONCURRENTLY: in production the requests table is large and keeps taking writes meanwhile.

import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from core.migration_ops import AddIndexConcurrently, RemoveIndexConcurrently, RunSQLOnPostgreSQL

OPEN_STATES = ("envoyee", "en_cours", "en_attente")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("conventions", "0006_names_refuse_nir"),
        ("requests_app", "0003_input_ranges"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["partenaire", "-created_at", "-id"], name="demande_partner_newest"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["partenaire", "state", "-created_at", "-id"], name="demande_partner_state"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["partenaire", "kind", "-created_at", "-id"], name="demande_partner_kind"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["caisse", "created_at", "id"], name="demande_caisse_queue"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["caisse", "state", "created_at", "id"], name="demande_caisse_state_age"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(fields=["created_at", "id"], name="demande_queue"),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(
                fields=["caisse", "created_at"], name="demande_caisse_open", condition=models.Q(state__in=OPEN_STATES)
            ),
        ),
        RunSQLOnPostgreSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS demande_search_trgm "
            "ON requests_app_demande USING gin (search_text gin_trgm_ops)",
            "DROP INDEX CONCURRENTLY IF EXISTS demande_search_trgm",
        ),
        # The old ones go once the new ones serve the same queries.
        RemoveIndexConcurrently(model_name="demande", name="demande_partner_recent"),
        RemoveIndexConcurrently(model_name="demande", name="demande_caisse_state"),
        # The composite indexes start with these columns: their single-column indexes only cost writes.
        migrations.AlterField(
            model_name="demande",
            name="caisse",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="demandes",
                to="conventions.caisse",
            ),
        ),
        migrations.AlterField(
            model_name="demande",
            name="partenaire",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="demandes",
                to="conventions.partenaire",
            ),
        ),
    ]
