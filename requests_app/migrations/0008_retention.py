# Retention (P6): when a request's identity and texts were erased, when an attachment was deleted, and the
# indexes of the two nightly jobs, built CONCURRENTLY (large tables that keep taking writes).

import requests_app.insured
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('conventions', '0006_names_refuse_nir'),
        ('requests_app', '0007_healthterm_to_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='demande',
            name='erased_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='identité et textes effacés le'),
        ),
        migrations.AddField(
            model_name='piecejointe',
            name='deleted_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='supprimée le'),
        ),
        migrations.AlterField(
            model_name='demande',
            name='assure_birth_date',
            field=models.DateField(null=True, validators=[requests_app.insured.validate_birth_date], verbose_name='date de naissance'),
        ),
        AddIndexConcurrently(
            model_name='demande',
            index=models.Index(condition=models.Q(('erased_at__isnull', True), ('state__in', ('traitee', 'cloturee'))), fields=['state_changed_at'], name='demande_to_erase'),
        ),
        AddIndexConcurrently(
            model_name='piecejointe',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('demande__isnull', False)), fields=['demande'], name='piece_stored'),
        ),
    ]
