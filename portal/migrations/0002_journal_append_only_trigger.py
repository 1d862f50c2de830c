"""The database itself refuses UPDATE and DELETE on the audit journal (PostgreSQL only)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION portal_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_journalentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_journalentry_append_only
    BEFORE UPDATE OR DELETE ON portal_journalentry
    FOR EACH ROW EXECUTE FUNCTION portal_journal_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS portal_journalentry_append_only ON portal_journalentry;
DROP FUNCTION IF EXISTS portal_journal_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
