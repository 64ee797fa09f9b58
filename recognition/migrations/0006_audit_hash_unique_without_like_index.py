"""The audit hash stays unique, by a constraint: unique=True also built, on
PostgreSQL, a varchar_pattern_ops index for LIKE that no query uses and every
append paid for."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('recognition', '0005_registry_stamp_triggers'),
    ]

    operations = [
        migrations.AlterField(
            model_name='verification',
            name='hash',
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name='verification',
            constraint=models.UniqueConstraint(fields=('hash',), name='verification_hash_unique'),
        ),
    ]
