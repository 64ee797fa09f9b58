"""ApiKey and CountryRole now belong to the accounts app: removed from this
app's state only; their tables and rows stay (accounts 0001 takes them)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0008_audit_filter_indexes"),
        ("accounts", "0001_initial_moved_from_recognition"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiKey"), migrations.DeleteModel(name="CountryRole")],
            database_operations=[],
        )
    ]
