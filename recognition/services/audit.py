"""Recording decisions in the audit log (DESIGN §5, §6).

Each decision is written as its log entry (the bytes the log hashes and the
leaf hash) and as a `Verification` row (the columns regulators filter on), in
one transaction that is committed, and on disk, before the answer is sent:
nothing is answered that is not recorded. The request path takes no lock of
the log's and reads no head: it writes the entry without a leaf index, and
the integrator (recognition/log/integrator.py) places it in the tree within
the maximum merge delay. The answer carries a receipt, the log's signed
promise of that.

PostgreSQL: both tables in one statement, in autocommit (one round trip, one
transaction; commits of concurrent requests share their flushes). SQLite: one
transaction (its write lock is the database's own, held for two INSERTs),
committed without an fsync (WAL mode, synchronous=NORMAL) and the log synced
right after, outside the lock, before the answer.
"""

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    NotSupportedError,
    ProgrammingError,
    connection,
    transaction,
)

from recognition.db import execute_direct, insert_together
from recognition.log.entries import DECISION_FIELDS, Entry, decision_entry
from recognition.log.receipts import receipts
from recognition.models import LogEntry, Verification


@dataclass(frozen=True)
class AuditEntry:
    client: str
    destination: str
    origin: str
    declared_origin: str
    issuer: str
    kid: str
    subject: str
    jti: str
    token_sha256: str
    decision: str
    reasons: list[str]
    agreement_id: int | None
    agreement_version: int | None


@dataclass(frozen=True)
class Recorded:
    """A decision written: its row, its log entry and the receipt."""

    row: Verification
    entry: Entry
    receipt: str

    @property
    def id(self) -> uuid.UUID:
        return self.row.id


class RecordingInterrupted(Exception):
    """The database failed once the rows had been sent, while it was
    committing them: they may be recorded or not. `rows` are what was sent."""

    def __init__(self, rows: Sequence[Verification]) -> None:
        super().__init__(f"the database failed while recording audit rows {rows[0].id}..{rows[-1].id}")
        self.rows = list(rows)


# Errors the server answered with: the statement failed, so nothing of it was
# committed. Any other error after the statement was sent (a lost connection,
# a server shutting down) leaves the outcome unknown.
_REFUSED = (IntegrityError, DataError, ProgrammingError, NotSupportedError)


def build(entries: Sequence[AuditEntry], *, at: datetime) -> tuple[list[Verification], list[Entry]]:
    """The rows and the log entries of `entries`, decided at `at`; not saved."""
    randomness = os.urandom(16 * len(entries))  # the ids' (uuid4), drawn at once
    rows, built = [], []
    for n, entry in enumerate(entries):
        id = uuid.UUID(bytes=randomness[16 * n : 16 * n + 16], version=4)
        fields = entry.__dict__
        rows.append(Verification.unsaved({**fields, "id": id, "created_at": at}))
        built.append(decision_entry(id, at, {name: fields[name] for name in DECISION_FIELDS}))
    return rows, built


def _log_rows(entries: Sequence[Entry]) -> list[LogEntry]:
    return [
        LogEntry.unsaved(
            {
                "id": entry.id,
                "kind": entry.kind,
                "created_at": entry.created_at,
                "body": entry.body,
                "leaf_hash": entry.leaf_hash,
                "seq": None,
            }
        )
        for entry in entries
    ]


def _write(rows: list[Verification], entries: list[Entry]) -> None:
    insert_together(connection, [(LogEntry, _log_rows(entries)), (Verification, rows)])


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        execute_direct(cursor, sql)


def _restore_full_sync() -> None:
    """Every other write of this connection commits with an fsync again; a
    connection that cannot be told so is closed (the next request opens one
    with the defaults)."""
    try:
        _execute("PRAGMA synchronous = FULL")
    except DatabaseError:
        connection.close()


def _fsync_wal() -> None:
    """Return once SQLite's write-ahead log is on disk (frames already
    checkpointed into the database were synced by the checkpoint); no log,
    nothing to wait for (an in-memory database)."""
    try:
        log = os.open(f"{connection.settings_dict['NAME']}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(log)
    finally:
        os.close(log)


def record_decisions(entries: Sequence[AuditEntry], *, at: datetime) -> list[Recorded]:
    """Write the decisions and return once they are committed and on disk:
    the caller may then answer. Inside someone else's transaction, their
    commit is the one that counts: a savepoint, so that a failed write takes
    nothing else with it.

    A database error before the rows were sent, or one the server answered
    the statement with, means nothing was recorded (the error goes up as it
    is); any other during or after sending them is RecordingInterrupted: the
    database may have recorded them although it never said so, and the
    caller must say which rows."""
    rows, built = build(entries, at=at)
    if connection.in_atomic_block:
        with transaction.atomic():
            _write(rows, built)
    else:
        connection.ensure_connection()  # a database that cannot be reached: nothing was sent
        sent = False
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            _execute("PRAGMA synchronous = NORMAL")  # WAL mode: commit without fsync; not inside a transaction
        try:
            if not sqlite:
                sent = True
                _write(rows, built)  # one statement, autocommit: its own transaction
            else:
                # The commit does not wait for the disk while it holds SQLite's
                # one write lock (concurrent requests would queue one fsync at
                # a time); the wait comes right after, outside the lock.
                with transaction.atomic():
                    _write(rows, built)
                    sent = True
                _fsync_wal()
        except _REFUSED:
            raise
        except (DatabaseError, InterfaceError, OSError) as exc:  # InterfaceError: a connection gone
            if sent:
                raise RecordingInterrupted(rows) from exc
            raise
        finally:
            if sqlite:
                _restore_full_sync()
    for row in rows:
        row._state.adding, row._state.db = False, connection.alias
    signed = receipts(built)  # the log key looked up once for the request
    return [Recorded(row, entry, receipt) for row, entry, receipt in zip(rows, built, signed, strict=True)]
