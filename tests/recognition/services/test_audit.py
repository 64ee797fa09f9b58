"""Recording decisions (DESIGN §5, §6) as the service does it: each decision
is one Verification row and one log entry holding DESIGN §6's exact bytes
and leaf hash, written together (PostgreSQL: one statement in autocommit;
SQLite: one transaction) and committed before the caller may answer; a
batch shares its instant; ids are uuid4; each comes with a receipt. When
the database fails, the caller learns whether anything may be recorded: a
failure before the rows were sent, or a statement the server refused,
recorded nothing; one after they were sent is RecordingInterrupted naming
them. The same failures seen through the API: tests/api/test_audit_log.py."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from recognition.models import LogEntry, Verification
from recognition.services import audit
from recognition.services.audit import AuditEntry, RecordingInterrupted, record_decisions
from tests.support.audit import check_receipt, entry, expected_entry, leaf_hash
from tests.support.recording_failures import AFTER_SENDING, FAILURES, written_then_lost

AT = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)
FIELDS = [name for name in AuditEntry.__dataclass_fields__]


def decisions(world) -> list[AuditEntry]:
    agreement = world.cn_recognizes_cl
    accepted = entry(
        client="shop-platform",
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
        accepted,
        entry(reasons=["expired", "no_agreement"], subject="Pérez-商户 ' OR 1=1 --", declared_origin="KZ"),
        entry(kid="%s %% $1 ?", issuer='\\.\n\t"quoted"', client="c" * 150),
    ]


def entries_of(rows) -> dict[uuid.UUID, LogEntry]:
    return {row.id: row for row in LogEntry.objects.filter(id__in=[row.id for row in rows])}


# What is written -------------------------------------------------------------------------------------


def test_each_decision_is_one_verification_row_and_one_log_entry_with_the_documented_bytes(world):
    given = decisions(world)
    before = LogEntry.objects.count()

    recorded = record_decisions(given, at=AT)

    assert Verification.objects.count() == 3 and LogEntry.objects.count() == before + 3
    stored = {row.id: row for row in Verification.objects.all()}
    entries = entries_of(stored.values())
    for decision, done in zip(given, recorded, strict=True):
        row, log_entry = stored[done.id], entries[done.id]
        assert {name: getattr(row, name) for name in FIELDS} == decision.__dict__
        assert (row.id, row.created_at) == (done.row.id, AT)
        body = expected_entry(row)  # DESIGN §6 written out again
        assert (bytes(log_entry.body), bytes(log_entry.leaf_hash)) == (body, leaf_hash(body))
        assert (log_entry.kind, log_entry.created_at, log_entry.seq) == ("decision", AT, None)
        assert (done.entry.body, done.entry.leaf_hash, done.entry.id) == (body, leaf_hash(body), row.id)
        check_receipt(done.receipt, log_entry)
        assert not done.row._state.adding and done.row._state.db == "default"
    # Non-ASCII as UTF-8, not \u escapes; the JSON is what it says.
    second = bytes(entries[recorded[1].id].body)
    assert "Pérez-商户".encode() in second and json.loads(second)["subject"] == "Pérez-商户 ' OR 1=1 --"


def test_a_batch_shares_its_instant_whatever_the_time_zone_it_was_read_in(world):
    at = datetime(2026, 3, 1, 23, 59, 0, 1, tzinfo=timezone(timedelta(hours=8)))
    recorded = record_decisions([entry()] * 5, at=at)
    rows = Verification.objects.filter(id__in=[done.id for done in recorded])
    assert {row.created_at for row in rows} == {at}
    assert {entry.created_at for entry in entries_of(rows).values()} == {at}
    assert {json.loads(bytes(e.body))["created_at"] for e in entries_of(rows).values()} == {
        "2026-03-01T15:59:00.000001Z"
    }


def test_ids_are_random_uuid4_each_row_its_own(db):
    ids = [done.id for done in record_decisions([entry()] * 200, at=AT)]
    assert len(set(ids)) == 200
    assert {(id.version, id.variant) for id in ids} == {(4, uuid.RFC_4122)}


def test_one_statement_on_postgresql_one_insert_a_table_on_sqlite(db):
    with CaptureQueriesContext(connection) as queries:
        record_decisions([entry()] * 3, at=AT)
    writes = [query["sql"] for query in queries.captured_queries if query["sql"].split()[0] in ("EXECUTE", "INSERT")]
    if connection.vendor == "postgresql":
        # Prepared once per connection; the statement inserts the entries in a
        # common table expression of the rows' INSERT.
        assert writes == [writes[0]] and writes[0].startswith("EXECUTE insert_logentry3_verification3 (")
    else:
        assert [sql.split('"')[1] for sql in writes] == ["recognition_logentry", "recognition_verification"]


# One transaction --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_decision_the_database_refuses_leaves_neither_its_entry_nor_its_row():
    """The entry is inserted first; the row's check constraint refuses the
    statement (PostgreSQL) or the transaction (SQLite): nothing of it stays,
    and the refusal is the database's own, not RecordingInterrupted."""
    with pytest.raises(IntegrityError):
        record_decisions([entry(), entry(decision="maybe")], at=AT)
    assert (LogEntry.objects.count(), Verification.objects.count()) == (0, 0)
    record_decisions([entry()], at=AT)  # the connection is usable again
    assert (LogEntry.objects.count(), Verification.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_the_rows_are_committed_when_record_decisions_returns():
    recorded = record_decisions([entry()] * 2, at=AT)
    assert not connection.in_atomic_block
    other = connection.copy()  # another session sees them: committed
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM recognition_logentry")
            assert cursor.fetchone()[0] == 2
            cursor.execute("SELECT count(*) FROM recognition_verification")
            assert cursor.fetchone()[0] == 2
    finally:
        other.close()
    assert len(recorded) == 2


class RolledBack(Exception):
    pass


def test_inside_a_callers_transaction_its_commit_counts_and_a_failure_takes_nothing_else(world):
    with pytest.raises(RolledBack), transaction.atomic():
        record_decisions([entry()], at=AT)
        raise RolledBack
    assert Verification.objects.count() == 0

    with transaction.atomic():
        kept = record_decisions([entry()], at=AT)
        with pytest.raises(IntegrityError):
            record_decisions([entry(decision="maybe")], at=AT)
        later = record_decisions([entry()], at=AT)  # the caller's transaction goes on
    assert set(Verification.objects.values_list("id", flat=True)) == {kept[0].id, later[0].id}
    assert len(entries_of([kept[0].row, later[0].row])) == 2


# When the database fails ---------------------------------------------------------------------------------


def unreachable(monkeypatch) -> None:
    def refuse():
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)


@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_be_reached_records_nothing_and_names_no_rows(monkeypatch):
    unreachable(monkeypatch)
    with pytest.raises(OperationalError, match="Connection refused") as failed:
        record_decisions([entry()] * 2, at=AT)
    assert not isinstance(failed.value, RecordingInterrupted)
    monkeypatch.undo()
    assert (LogEntry.objects.count(), Verification.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", FAILURES)
def test_a_failure_after_the_rows_were_sent_is_recording_interrupted_naming_them(monkeypatch, failure):
    if failure not in AFTER_SENDING[connection.vendor]:
        pytest.skip(f"not how {connection.vendor} fails after sending")
    AFTER_SENDING[connection.vendor][failure](monkeypatch)

    with pytest.raises(RecordingInterrupted) as interrupted:
        record_decisions([entry(client="first"), entry(client="second"), entry(client="third")], at=AT)
    monkeypatch.undo()

    rows = interrupted.value.rows
    assert [row.client for row in rows] == ["first", "second", "third"]
    assert str(interrupted.value) == f"the database failed while recording audit rows {rows[0].id}..{rows[-1].id}"
    assert interrupted.value.__cause__ is not None
    # Here the database did record them, although it never said so.
    assert set(Verification.objects.values_list("id", flat=True)) == {row.id for row in rows}
    assert set(LogEntry.objects.values_list("id", flat=True)) == {row.id for row in rows}
    connection.close()  # whatever state the fake failure left the connection in
    record_decisions([entry()], at=AT)
    assert Verification.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_failure_while_writing_rolls_back_and_names_no_rows(monkeypatch):
    """SQLite writes in a transaction: an error before the commit means the
    rows are not recorded, and the caller is told so (no row named)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL sends one statement: a failure during it may have recorded it")
    written_then_lost(OperationalError("disk I/O error"))(monkeypatch)
    with pytest.raises(OperationalError) as failed:
        record_decisions([entry()] * 2, at=AT)
    assert not isinstance(failed.value, RecordingInterrupted)
    monkeypatch.undo()
    assert (LogEntry.objects.count(), Verification.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_failure_during_the_statement_may_have_recorded_it(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: one statement, its outcome unknown once sent")

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(audit, "insert_together", lost)
    with pytest.raises(RecordingInterrupted) as interrupted:
        record_decisions([entry()], at=AT)
    assert len(interrupted.value.rows) == 1
    monkeypatch.undo()
    assert Verification.objects.count() == 0  # this time it did not reach the database
