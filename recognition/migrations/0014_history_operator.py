from django.db import migrations, models

TABLE = "recognition_historicalrecognitionagreement"
EVENTS = ("insert", "update", "delete")
SQLITE_TRIGGER = """
CREATE TRIGGER recognition_registry_changed_{table}_{event} AFTER {event} ON {table}
BEGIN
    UPDATE recognition_registry_stamp SET stamp = random() WHERE id = 1;
END
"""


def restore_sqlite_stamp_triggers(apps, schema_editor):
    """SQLite rebuilt the table to add the column, dropping the registry
    stamp's triggers (migration 0005): they are made again."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in EVENTS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS recognition_registry_changed_{TABLE}_{event}")
        schema_editor.execute(SQLITE_TRIGGER.format(table=TABLE, event=event))


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0013_witness_and_change_record_guards"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalrecognitionagreement",
            name="history_operator",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
        migrations.AddField(
            model_name="historicalwitness",
            name="history_operator",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
        migrations.RunPython(restore_sqlite_stamp_triggers, migrations.RunPython.noop),
    ]
