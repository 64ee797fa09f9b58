"""Helpers for the migrations that add PostgreSQL-only database rules (a
module whose name starts with "_" is no migration to Django's loader)."""

from django.db import migrations


def on_postgresql(create: str, drop: str) -> migrations.RunPython:
    """A reversible operation that runs `create` (forwards) or `drop`
    (backwards) on PostgreSQL, and nothing elsewhere."""

    def run(sql: str):
        def operation(apps, schema_editor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                # params=None: the SQL is sent as is. With parameters (even
                # none) the schema editor interpolates client-side, and a "%"
                # of a RAISE format string would be read as a placeholder.
                schema_editor.execute(sql, params=None)

        return operation

    return migrations.RunPython(run(create), run(drop))
