# Work queues (issue 13): per-user read marks, the last change of each side on a request (filled from the
# thread and the history), the partner's queue indexes (built CONCURRENTLY), canned replies.

import core.guard
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Max, OuterRef, Q, Subquery

from core.migration_ops import AddIndexConcurrently

OPEN_STATES = ("envoyee", "en_cours", "en_attente")


def last_changes(apps, schema_editor):
    """What the thread and the history already say: the caisse's last message to the partner or move (its
    staff have no partner), the partner's last message."""
    Demande = apps.get_model("requests_app", "Demande")
    Message = apps.get_model("requests_app", "Message")
    DemandeChange = apps.get_model("requests_app", "DemandeChange")

    def latest(queryset, field):
        return Subquery(
            queryset.filter(demande=OuterRef("pk"))
            .order_by()
            .values("demande")
            .annotate(last=Max(field))
            .values("last")
        )

    caisse_message = latest(Message.objects.filter(side="caisse", internal=False), "created_at")
    caisse_move = latest(DemandeChange.objects.filter(by__partenaire__isnull=True).exclude(field="assigned_to"), "at")
    partner_message = latest(Message.objects.filter(side="partenaire"), "created_at")
    Demande.objects.update(partner_changed_at=partner_message)
    Demande.objects.update(caisse_changed_at=caisse_message)
    Demande.objects.filter(Q(caisse_changed_at__isnull=True) | Q(caisse_changed_at__lt=caisse_move)).update(
        caisse_changed_at=caisse_move
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("conventions", "0006_names_refuse_nir"),
        ("requests_app", "0008_retention"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DemandeLecture",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("read_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="lue le")),
            ],
            options={
                "verbose_name": "lecture de demande",
                "verbose_name_plural": "lectures de demandes",
            },
        ),
        migrations.CreateModel(
            name="ReponseType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "title",
                    models.CharField(max_length=120, validators=[core.guard.free_text_validator], verbose_name="titre"),
                ),
                (
                    "body",
                    models.TextField(
                        max_length=4000, validators=[core.guard.free_text_validator], verbose_name="texte"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="modifiée le"),
                ),
            ],
            options={
                "verbose_name": "réponse type",
                "verbose_name_plural": "réponses types",
                "ordering": ["title", "id"],
            },
        ),
        migrations.AddField(
            model_name="demande",
            name="caisse_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="modifiée par la caisse le"),
        ),
        migrations.AddField(
            model_name="demande",
            name="partner_changed_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="modifiée par le partenaire le"
            ),
        ),
        migrations.RunPython(last_changes, migrations.RunPython.noop, atomic=True),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(
                condition=models.Q(("state__in", OPEN_STATES)),
                fields=["partenaire", "created_at", "id"],
                name="demande_partner_open",
            ),
        ),
        AddIndexConcurrently(
            model_name="demande",
            index=models.Index(
                condition=models.Q(("caisse_changed_at__isnull", False)),
                fields=["partenaire", "-caisse_changed_at", "-id"],
                name="demande_partner_answered",
            ),
        ),
        migrations.AddField(
            model_name="demandelecture",
            name="demande",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lectures", to="requests_app.demande"
            ),
        ),
        migrations.AddField(
            model_name="demandelecture",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="reponsetype",
            name="caisse",
            field=models.ForeignKey(
                blank=True,
                help_text="Vide : réponse nationale, proposée aux agents de toutes les caisses.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reponses_types",
                to="conventions.caisse",
            ),
        ),
        migrations.AddConstraint(
            model_name="demandelecture",
            constraint=models.UniqueConstraint(fields=("user", "demande"), name="lecture_user_demande"),
        ),
    ]
