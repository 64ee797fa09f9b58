"""A stamp that changes with every change to what verifications cache
(DESIGN §7: a change takes effect for the very next verification on
every worker).

Each worker keeps the authorities, their keys, the agreements (with their
credential types and latest history version) and the credential types in
memory (recognition.services.verification.RegistrySnapshot). Every write to
those tables, whatever makes it (a service, the admin, a command, raw SQL),
gives `recognition_registry_stamp.stamp` a value it never had, in the same
transaction; every verification reads the stamp in the query it makes anyway
and reloads its snapshot when the stamp differs.

PostgreSQL: statement triggers take the next value of a sequence, which a
rolled-back transaction never hands out again. They hold the stamp row's
lock until the transaction ends, so registry writes commit one at a time (two
admin writes waiting on each other's rows can deadlock; PostgreSQL then
refuses one, which is retried). TRUNCATE is covered too.

SQLite: row triggers set a random 64-bit value (SQLite has no counter that a
rollback leaves alone); two states sharing one value is a 2**-64 chance.
SQLite rebuilds a table to alter it, dropping its triggers: a later migration
that alters one of these tables must create them again (a test of the
snapshot fails until it does).
"""

from django.db import migrations

TABLES = (
    "identity_authority",
    "identity_authoritykey",
    "identity_credentialtype",
    "recognition_recognitionagreement",
    "recognition_recognitionagreement_credential_types",
    "recognition_historicalrecognitionagreement",
)

POSTGRESQL_CREATE = """
CREATE SEQUENCE recognition_registry_stamp_seq;
CREATE TABLE recognition_registry_stamp (
    id smallint PRIMARY KEY CHECK (id = 1),
    stamp bigint NOT NULL
);
INSERT INTO recognition_registry_stamp (id, stamp) VALUES (1, 0);
CREATE FUNCTION recognition_registry_changed() RETURNS trigger AS $$
BEGIN
    UPDATE recognition_registry_stamp SET stamp = nextval('recognition_registry_stamp_seq') WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

POSTGRESQL_TRIGGER = """
CREATE TRIGGER recognition_registry_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_registry_changed();
"""

POSTGRESQL_DROP = """
DROP TABLE IF EXISTS recognition_registry_stamp;
DROP SEQUENCE IF EXISTS recognition_registry_stamp_seq;
"""

SQLITE_CREATE = [
    "CREATE TABLE recognition_registry_stamp (id integer PRIMARY KEY CHECK (id = 1), stamp bigint NOT NULL)",
    "INSERT INTO recognition_registry_stamp (id, stamp) VALUES (1, 0)",
]

SQLITE_TRIGGER = """
CREATE TRIGGER recognition_registry_changed_{table}_{event} AFTER {event} ON {table}
BEGIN
    UPDATE recognition_registry_stamp SET stamp = random() WHERE id = 1;
END
"""

EVENTS = ("insert", "update", "delete")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: sent as is ($$ and % are not placeholders).
        schema_editor.execute(POSTGRESQL_CREATE, params=None)
        for table in TABLES:
            schema_editor.execute(POSTGRESQL_TRIGGER.format(table=table), params=None)
    else:
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
        for table in TABLES:
            for event in EVENTS:
                schema_editor.execute(SQLITE_TRIGGER.format(table=table, event=event))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS recognition_registry_changed ON {table}", params=None)
        schema_editor.execute("DROP FUNCTION IF EXISTS recognition_registry_changed()", params=None)
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    else:
        for table in TABLES:
            for event in EVENTS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS recognition_registry_changed_{table}_{event}")
        schema_editor.execute("DROP TABLE IF EXISTS recognition_registry_stamp")


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial_identity"),
        ("recognition", "0004_registry_keys_and_trust_list_state"),
    ]

    operations = [migrations.RunPython(create, drop)]
