"""The audit INSERT of the hot path against Django's own
bulk_create, on the same rows: the database ends up holding the same values."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext

from recognition.models import Verification
from recognition.services.audit import GENESIS, AuditEntry, chain_rows, check_chain

# Each row's own: its id, its place in the chain and its hashes differ between the two sets.
COMPARED = [
    field.attname
    for field in Verification._meta.concrete_fields
    if field.attname not in {"id", "seq", "hash", "prev_hash"}
]


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
        # What COPY's text format gives a meaning to: every one must arrive as it was.
        AuditEntry(**{**plain, "subject": "a\tb\nc\rd\\e", "kid": "\\N", "jti": "\\.", "client": "\\"}),
        AuditEntry(**{**plain, "issuer": "\\.\n\\.", "subject": "", "kid": "\\", "reasons": ["a\tb"]}),
    ]


def stored(rows: list[Verification]) -> list[dict]:
    by_id = {row["id"]: row for row in Verification.objects.filter(id__in=[r.id for r in rows]).values()}
    return [{name: by_id[row.id][name] for name in COMPARED} for row in rows]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=8))),
    ],
    ids=["UTC with microseconds", "UTC+8"],
)
def test_rows_are_stored_as_bulk_create_stores_them(world, at):
    same = entries(world)
    ours = chain_rows(same, at=at, seq=1000, prev_hash=GENESIS)
    theirs = chain_rows(same, at=at, seq=2000, prev_hash=GENESIS)

    returned = Verification.objects.bulk_create(ours)
    models.QuerySet(Verification).bulk_create(theirs)

    assert returned == ours and all(not row._state.adding and row._state.db == "default" for row in ours)
    assert stored(ours) == stored(theirs)
    reread = {row.id: row for row in Verification.objects.filter(id__in=[r.id for r in ours])}
    assert [(reread[r.id].seq, reread[r.id].prev_hash, reread[r.id].hash) for r in ours] == [
        (r.seq, r.prev_hash, r.hash) for r in ours
    ]


def test_an_unsaved_row_is_what_the_model_constructor_builds(world):
    values = {
        **entries(world)[0].__dict__,
        "id": uuid.uuid4(),
        "seq": 7,
        "created_at": datetime.now(UTC),
        "prev_hash": GENESIS,
        "hash": "cd" * 32,
    }
    ours, theirs = Verification.unsaved(dict(values)), Verification(**values)
    state = ("adding", "db", "fields_cache")
    assert {**vars(ours), "_state": None} == {**vars(theirs), "_state": None}
    assert [getattr(ours._state, name) for name in state] == [getattr(theirs._state, name) for name in state]
    assert ours.agreement == theirs.agreement == world.cn_recognizes_cl
    with pytest.raises(TypeError, match="needs exactly the fields"):
        Verification.unsaved({**values, "unknown": 1})
    with pytest.raises(TypeError, match="needs exactly the fields"):
        Verification.unsaved({name: value for name, value in values.items() if name != "hash"})


def test_an_unsaved_row_runs_init_signal_receivers_when_there_are_some(world):
    from django.db.models.signals import post_init

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Verification)
    try:
        (row,) = chain_rows(entries(world)[:1], at=datetime.now(UTC), seq=0, prev_hash=GENESIS)
    finally:
        post_init.disconnect(receiver, sender=Verification)
    assert seen == [row]


def test_more_rows_than_one_statement_takes_are_all_stored(world):
    many = entries(world) * 40
    rows = chain_rows(many, at=datetime.now(UTC), seq=0, prev_hash=GENESIS)
    Verification.objects.bulk_create(rows)
    report = check_chain()
    assert (report.intact, report.records, report.head) == (True, len(many), rows[-1].hash)


def test_the_fast_path_refuses_nothing_bulk_create_would_refuse(world):
    rows = chain_rows(entries(world)[:1], at=datetime.now(UTC), seq=0, prev_hash=GENESIS)
    Verification.objects.bulk_create(rows)
    again = chain_rows(entries(world)[:1], at=datetime.now(UTC), seq=0, prev_hash=GENESIS)  # the same seq
    with pytest.raises(Exception) as ours, transaction.atomic():
        Verification.objects.bulk_create(again)
    with pytest.raises(Exception) as theirs, transaction.atomic():
        models.QuerySet(Verification).bulk_create(again)
    assert type(ours.value) is type(theirs.value)


def test_postgresql_copies_the_rows_in_one_statement_that_query_counts_see(postgres_only, world):
    rows = chain_rows(entries(world), at=datetime.now(UTC), seq=0, prev_hash=GENESIS)
    with CaptureQueriesContext(connection) as queries:
        Verification.objects.bulk_create(rows)
    (copy,) = [query["sql"] for query in queries.captured_queries if "recognition_verification" in query["sql"]]
    assert copy.startswith('COPY "recognition_verification" (') and copy.endswith(f"FROM STDIN -- {len(rows)} rows")
    assert check_chain().intact


def test_every_index_of_the_audit_table_is_one_a_query_or_a_rule_needs(postgres_only):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'recognition_verification'")
        columns = sorted(row[0].split(" USING ")[1] for row in cursor.fetchall())
    # id, seq and hash unique; the audit API's filters; the agreement's foreign key.
    assert columns == [
        "btree (agreement_id)",
        "btree (created_at, seq)",
        "btree (decision, seq)",
        "btree (destination, seq)",
        "btree (hash)",
        "btree (id)",
        "btree (issuer, seq)",
        "btree (origin, seq)",
        "btree (seq)",
        "gin (reasons jsonb_path_ops) WITH (fastupdate=off)",
    ]


def wal_lsn(function: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_an_append_committed_without_waiting_is_on_disk_before_the_answer(world):
    from recognition.services import audit

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: the WAL position says what is on disk")
    with transaction.atomic():
        audit.audit_append(entries(world)[:1], at=datetime.now(UTC), flush_after_commit=True)
    committed = wal_lsn("pg_current_wal_insert_lsn")  # at or past this append's commit record
    audit._flush_committed()
    assert wal_lsn("pg_current_wal_flush_lsn") >= committed

    audit.audit_commit(entries(world), at=datetime.now(UTC))
    assert check_chain().intact


def synchronous() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_sqlite_commits_durably_again_after_an_append(world):
    from recognition.services import audit

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's synchronous setting")
    assert synchronous() == 2  # FULL: every other commit waits for the disk
    audit.audit_commit(entries(world), at=datetime.now(UTC))
    assert synchronous() == 2
    with pytest.raises(ValueError), transaction.atomic():
        audit.audit_commit(entries(world)[:1], at=datetime.now(UTC))
        raise ValueError("a failure after the append")
    assert synchronous() == 2
    assert check_chain().intact
