"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit rows
(DESIGN §6). SQLite relies on the application's refusal."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION recognition_verification_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'recognition_verification is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recognition_verification_append_only
    BEFORE UPDATE OR DELETE ON recognition_verification
    FOR EACH ROW EXECUTE FUNCTION recognition_verification_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS recognition_verification_append_only ON recognition_verification;
DROP FUNCTION IF EXISTS recognition_verification_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL is sent as is. With parameters (even none) the
        # PostgreSQL schema editor interpolates client-side, and the "%" of the
        # RAISE format string would be read as a placeholder.
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0002_audit_log_and_api_keys")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
