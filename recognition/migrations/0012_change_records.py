"""Which change entry holds which history record (recognition.ChangeRecord),
written from now on with each change entry; the entries already in the log
are read once here, by their bytes, to fill it."""

import json

import django.db.models.deletion
from django.db import migrations, models

CHUNK = 2000


def index_existing_changes(apps, schema_editor):
    LogEntry = apps.get_model("recognition", "LogEntry")
    ChangeRecord = apps.get_model("recognition", "ChangeRecord")
    found = LogEntry.objects.filter(kind="change").values_list("id", "body").iterator(chunk_size=CHUNK)
    batch = []
    for entry_id, body in found:
        fields = json.loads(bytes(body))
        batch.append(ChangeRecord(model=fields["model"], history_id=fields["history_id"], entry_id=entry_id))
        if len(batch) == CHUNK:
            ChangeRecord.objects.bulk_create(batch)
            batch = []
    ChangeRecord.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0011_witnesses"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "model",
                    models.CharField(help_text="The tracked model, e.g. identity.authoritykey.", max_length=100),
                ),
                ("history_id", models.BigIntegerField()),
                (
                    "entry",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recognition.logentry",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("model", "history_id"), name="changerecord_one_per_record")
                ],
            },
        ),
        migrations.RunPython(index_existing_changes, migrations.RunPython.noop, elidable=False),
    ]
