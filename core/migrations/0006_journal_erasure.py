"""The journal stays append-only, but for the purge's erasure (A15): an UPDATE that only empties the label of
an entry and/or erases its address is accepted; any other change and any DELETE are still refused."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION portal_journal_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.target_label = '' OR NEW.target_label = OLD.target_label)
        AND (NEW.ip IS NULL OR NEW.ip = OLD.ip)
        AND (NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.run_id, NEW.details)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.at, OLD.actor_id, OLD.action, OLD.target_type, OLD.target_id, OLD.run_id, OLD.details)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'portal_journalentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
STRICT = """
CREATE OR REPLACE FUNCTION portal_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_journalentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STRICT, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_retention")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
