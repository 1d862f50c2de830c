# The moved models keep their content types (and so the permissions and group grants that point at them):
# the rows are relabelled portal → core and requests_app → core instead of new ones being created.

from django.db import migrations

MOVED = [("portal", "journalentry"), ("portal", "outboxemail"), ("requests_app", "healthterm")]


def relabel(apps, schema_editor, *, to_core=True):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_app, model in MOVED:
        source, target = (old_app, "core") if to_core else ("core", old_app)
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue  # already there (created by a previous run): nothing to carry over
        ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def relabel_back(apps, schema_editor):
    relabel(apps, schema_editor, to_core=False)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0010_journal_and_outbox_to_core"),
        ("requests_app", "0007_healthterm_to_core"),
    ]

    operations = [migrations.RunPython(relabel, relabel_back)]
