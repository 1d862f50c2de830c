# D7: the state history widens into the history of every change of a request (field, old, new, by, at).
# Renames and a constant default only: no table rewrite, whatever the table's size.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0004_list_indexes"),
    ]

    operations = [
        migrations.RenameModel("StateChange", "DemandeChange"),
        migrations.RenameField("demandechange", "from_state", "old_value"),
        migrations.RenameField("demandechange", "to_state", "new_value"),
        migrations.AlterField(
            model_name="demandechange",
            name="old_value",
            field=models.CharField(blank=True, max_length=300, verbose_name="ancienne valeur"),
        ),
        migrations.AlterField(
            model_name="demandechange",
            name="new_value",
            field=models.CharField(blank=True, max_length=300, verbose_name="nouvelle valeur"),
        ),
        migrations.AddField(
            model_name="demandechange",
            name="field",
            field=models.CharField(
                choices=[
                    ("state", "état"),
                    ("assigned_to", "agent en charge"),
                    ("appointment_at", "rendez-vous fixé le"),
                    ("appointment_place", "lieu du rendez-vous"),
                ],
                default="state",
                max_length=20,
                verbose_name="champ",
            ),
        ),
        migrations.AlterField(
            model_name="demandechange",
            name="demande",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="changes", to="requests_app.demande"
            ),
        ),
        migrations.AlterModelOptions(
            name="demandechange",
            options={
                "ordering": ["at", "id"],
                "verbose_name": "modification de la demande",
                "verbose_name_plural": "historique de la demande",
            },
        ),
    ]
