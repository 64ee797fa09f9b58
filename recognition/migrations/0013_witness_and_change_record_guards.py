"""On PostgreSQL, the cosignatures, the witnesses' events and the change
records are append-only in the database too, as the log they belong to
(0010): no UPDATE, no DELETE, no TRUNCATE (the test suite's flush aside).
The functions are 0010's."""

from django.db import migrations

from recognition.migrations._postgresql import on_postgresql

TABLES = ("recognition_cosignature", "recognition_witnessevent", "recognition_changerecord")

GUARDS = "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION recognition_log_refuse();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_log_no_truncate();
"""
    for table in TABLES
)
DROP_GUARDS = "".join(
    f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
"""
    for table in TABLES
)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0012_change_records")]

    operations = [on_postgresql(GUARDS, DROP_GUARDS)]
