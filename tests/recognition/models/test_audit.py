"""The hot path's own way of writing a decision, against Django's: the rows
built by `unsaved` are what the model's constructor builds, and the direct
INSERTs of recognition/db.py `insert_together` store exactly what the ORM's
bulk_create stores, value for value as the database holds them, for the
Verification row and its LogEntry; and they are on disk when the answer is
sent."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from recognition.db import insert_together
from recognition.models import LogEntry, Verification
from recognition.services.audit import AuditEntry, _log_rows, build, record_decisions

TABLES = {Verification: "recognition_verification", LogEntry: "recognition_logentry"}


def entries(world) -> list[AuditEntry]:
    agreement = world.cn_recognizes_cl
    plain = dict(
        client="shop-platform",
        destination="CN",
        origin="CL",
        declared_origin="CL",
        issuer=world.cl.authority.issuer,
        kid=world.cl.key.kid,
        subject="CL-0001",
        jti=str(uuid.uuid4()),
        token_sha256="ab" * 32,
        decision="accepted",
        reasons=[],
        agreement_id=agreement.pk,
        agreement_version=agreement.history.latest().history_id,
    )
    return [
        AuditEntry(**plain),
        AuditEntry(**{**plain, "decision": "rejected", "reasons": ["merchant_suspended", "agreement_not_in_force"]}),
        AuditEntry(**{**plain, "agreement_id": None, "agreement_version": None, "origin": "", "declared_origin": ""}),
        AuditEntry(**{**plain, "subject": "Pérez-商户 ' OR 1=1 --", "client": "c" * 150, "issuer": "i" * 500}),
        AuditEntry(**{**plain, "kid": "%s %% $1 ?", "jti": "", "reasons": ["invalid_claim"] * 3}),
        # What a text protocol gives a meaning to: every one must arrive as it was.
        AuditEntry(**{**plain, "subject": "a\tb\nc\rd\\e", "kid": "\\N", "jti": "\\.", "client": "\\"}),
        AuditEntry(**{**plain, "issuer": "\\.\n\\.", "subject": "", "kid": "\\", "reasons": ["a\tb", ""]}),
    ]


def rows_for(world, at: datetime, many: int = 1) -> list[tuple[type[models.Model], list[models.Model]]]:
    """The groups record_decisions writes: log entries first, then the rows."""
    rows, built = build(entries(world) * many, at=at)
    return [(LogEntry, _log_rows(built)), (Verification, rows)]


def as_stored(groups) -> dict[str, list[tuple]]:
    """Every column of the rows, as the database holds them (read with SQL,
    not through the fields)."""
    found = {}
    with connection.cursor() as cursor:
        for model, objs in groups:
            table = TABLES[model]
            columns = ", ".join(f'"{field.column}"' for field in model._meta.concrete_fields)
            marks = ", ".join(["%s"] * len(objs))
            ids = [model._meta.pk.get_db_prep_value(obj.pk, connection) for obj in objs]
            cursor.execute(f'SELECT {columns} FROM "{table}" WHERE id IN ({marks}) ORDER BY id', ids)  # noqa: S608
            found[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor]
    return found


class RolledBack(Exception):
    pass


def stored_by(write, groups) -> dict[str, list[tuple]]:
    """What `write(groups)` leaves in the database, undone afterwards."""
    seen: dict[str, list[tuple]] = {}
    with pytest.raises(RolledBack), transaction.atomic():
        write(groups)
        seen.update(as_stored(groups))
        raise RolledBack
    return seen


def ours(groups) -> None:
    insert_together(connection, groups)


def djangos(groups) -> None:
    for model, objs in groups:
        models.QuerySet(model).bulk_create(objs)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=8))),
    ],
    ids=["UTC with microseconds", "UTC+8"],
)
def test_the_direct_inserts_store_what_bulk_create_stores(world, at):
    groups = rows_for(world, at)

    theirs = stored_by(djangos, groups)
    mine = stored_by(ours, groups)

    assert mine == theirs
    assert [len(rows) for rows in mine.values()] == [7, 7]
    assert Verification.objects.count() == 0  # both undone


def test_more_rows_than_one_statement_takes_are_all_stored_as_bulk_create_stores_them(world):
    groups = rows_for(world, datetime.now(UTC), many=40)  # SQLite: several INSERTs a table
    assert stored_by(ours, groups) == stored_by(djangos, groups)
    insert_together(connection, groups)
    assert Verification.objects.count() == LogEntry.objects.filter(kind="decision").count() == 280


def test_the_direct_inserts_refuse_what_bulk_create_refuses(world):
    groups = rows_for(world, datetime.now(UTC))
    insert_together(connection, groups)
    with pytest.raises(Exception) as mine, transaction.atomic():
        insert_together(connection, groups)  # the same ids again
    with pytest.raises(Exception) as theirs, transaction.atomic():
        djangos(groups)
    assert type(mine.value) is type(theirs.value)


def all_fields(model: type[models.Model], world) -> dict[str, Any]:
    if model is Verification:
        return {**entries(world)[0].__dict__, "id": uuid.uuid4(), "created_at": datetime.now(UTC)}
    return {
        "id": uuid.uuid4(),
        "kind": "decision",
        "created_at": datetime.now(UTC),
        "body": b"{}",
        "leaf_hash": b"\x00" * 32,
        "seq": None,
    }


@pytest.mark.parametrize("model", [Verification, LogEntry], ids=["Verification", "LogEntry"])
def test_an_unsaved_row_is_what_the_model_constructor_builds(world, model):
    values = all_fields(model, world)
    mine, theirs = model.unsaved(dict(values)), model(**values)
    state = ("adding", "db", "fields_cache")
    assert {**vars(mine), "_state": None} == {**vars(theirs), "_state": None}
    assert [getattr(mine._state, name) for name in state] == [getattr(theirs._state, name) for name in state]
    if model is Verification:
        assert mine.agreement == theirs.agreement == world.cn_recognizes_cl
    with pytest.raises(TypeError, match="needs exactly the fields"):
        model.unsaved({**values, "unknown": 1})
    with pytest.raises(TypeError, match="needs exactly the fields"):
        model.unsaved({name: value for name, value in values.items() if name != "created_at"})


@pytest.mark.parametrize("model", [Verification, LogEntry], ids=["Verification", "LogEntry"])
def test_an_unsaved_row_runs_init_signal_receivers_when_there_are_some(world, model):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=model)
    try:
        row = model.unsaved(all_fields(model, world))
    finally:
        post_init.disconnect(receiver, sender=model)
    assert seen == [row]


def test_postgresql_writes_both_tables_in_one_statement_that_query_counts_see(postgres_only, world):
    groups = rows_for(world, datetime.now(UTC))
    with CaptureQueriesContext(connection) as queries:
        insert_together(connection, groups)
    (statement,) = [query["sql"] for query in queries.captured_queries]
    assert statement.startswith("EXECUTE insert_logentry7_verification7 (")
    assert Verification.objects.count() == 7


def test_every_index_of_the_decisions_and_the_entries_is_one_a_query_or_a_rule_needs(postgres_only):
    """Each index is one more write a verification: the list is kept short on purpose."""
    found = {}
    with connection.cursor() as cursor:
        for table in TABLES.values():
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
            found[table] = sorted(row[0].split(" USING ")[1] for row in cursor.fetchall())
    assert found == {
        # The id; the audit API's filters, each with its keyset order; the
        # agreement's foreign key; `reason` (migration 0008).
        "recognition_verification": [
            "btree (agreement_id)",
            "btree (created_at, id)",
            "btree (decision, created_at, id)",
            "btree (destination, created_at, id)",
            "btree (id)",
            "btree (issuer, created_at, id)",
            "btree (origin, created_at, id)",
            "gin (reasons jsonb_path_ops) WITH (fastupdate=off)",
        ],
        # The id; the leaf index, unique; what the integrator and /healthz look for.
        "recognition_logentry": ["btree (created_at) WHERE (seq IS NULL)", "btree (id)", "btree (seq)"],
    }


# On disk before the answer ---------------------------------------------------------------------------


def wal_lsn(function: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_decision_recorded_on_postgresql_is_on_disk_when_recorded_returns(world):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: the WAL position says what is on disk")
    before = wal_lsn("pg_current_wal_insert_lsn")  # the commit record comes after this
    with CaptureQueriesContext(connection) as queries:
        record_decisions(entries(world), at=datetime.now(UTC))
    # The commit waited for its WAL record to be flushed: the flush is past
    # what was written before it (other sessions write WAL too, so nothing
    # later can be compared), and nothing turned the wait off.
    assert wal_lsn("pg_current_wal_flush_lsn") >= before
    assert not any("synchronous_commit" in query["sql"] for query in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def synchronous() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_sqlite_commits_a_decision_durably(world):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's synchronous setting")
    assert synchronous() == 2  # FULL: a commit waits for the disk
    record_decisions(entries(world), at=datetime.now(UTC))
    assert synchronous() == 2
    assert Verification.objects.count() == 7
