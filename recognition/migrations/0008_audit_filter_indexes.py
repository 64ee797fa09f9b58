"""Indexes for every filter of the audit API (DESIGN §7), so that a page costs
the same on a million rows as on a thousand: each filtered column with seq
after it (pages are `seq > cursor ORDER BY seq`), created_at with seq (since
and until become seq bounds), and on PostgreSQL a GIN index for `reason`.

The GIN index takes jsonb_path_ops (it serves @>, and is smaller) and
fastupdate off: with a pending list, the append that fills it would merge it
while holding the chain's lock and stall every other append meanwhile. It
covers every row: a partial one (rows with reasons) would need the filter to
say `reasons <> '[]'`, which the planner takes for an independent condition,
so it would underestimate a common code's rows five times and read all of
them through the index (45 ms a page on a million rows, measured). SQLite
has no such index; its `reason` filter reads the rows (README)."""

from django.db import migrations, models

CREATE_GIN = (
    "CREATE INDEX verification_reasons ON recognition_verification "
    "USING gin (reasons jsonb_path_ops) WITH (fastupdate = off)"
)
DROP_GIN = "DROP INDEX IF EXISTS verification_reasons"


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_GIN, params=None)


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_GIN, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('recognition', '0007_audit_refuses_truncate'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='verification',
            name='verification_created_at',
        ),
        migrations.AddIndex(
            model_name='verification',
            index=models.Index(fields=['created_at', 'seq'], name='verification_created_at_seq'),
        ),
        migrations.AddIndex(
            model_name='verification',
            index=models.Index(fields=['origin', 'seq'], name='verification_origin'),
        ),
        migrations.AddIndex(
            model_name='verification',
            index=models.Index(fields=['decision', 'seq'], name='verification_decision'),
        ),
        migrations.RunPython(create_gin, drop_gin),
    ]
