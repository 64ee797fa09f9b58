"""Appending to and checking the audit chain (DESIGN §6).

hash = SHA-256(prev_hash || canonical JSON of the record's other fields),
where prev_hash is the previous row's 64 hex digits (ASCII) and the JSON has
sorted keys, no spaces and is UTF-8; the first prev_hash is 64 zeros. The
README ("The audit log") spells out every member for outside verifiers, with
a worked example that the suite checks against this code.
"""

import functools
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import DatabaseError, connection, transaction

from recognition.db import execute_direct
from recognition.models import Verification

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serializes appends.
_APPEND_LOCK = 0x4D5252  # "MRR"


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


@functools.lru_cache(maxsize=64)  # every row of a request has the same created_at
def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hashed_fields(row: Verification) -> dict:
    """The fields the hash covers: every field but prev_hash and hash."""
    return {
        "id": str(row.id),
        "seq": row.seq,
        "created_at": _timestamp(row.created_at),
        "client": row.client,
        "destination": row.destination,
        "origin": row.origin,
        "declared_origin": row.declared_origin,
        "issuer": row.issuer,
        "kid": row.kid,
        "subject": row.subject,
        "jti": row.jti,
        "token_sha256": row.token_sha256,
        "decision": row.decision,
        "reasons": list(row.reasons),
        "agreement_id": row.agreement_id,
        "agreement_version": row.agreement_version,
    }


# Sorted keys, no spaces, UTF-8 (not \u escapes): json.dumps with these
# arguments, built once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, fields: dict) -> str:
    canonical = _CANONICAL.encode(fields)
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


_HEAD = "SELECT seq, hash, created_at FROM recognition_verification ORDER BY seq DESC LIMIT 1"
# PostgreSQL: one appender at a time, held to the end of the transaction. The
# statements go in one round trip, and each takes its own snapshot (READ
# COMMITTED), so the head is read once the lock is held, as if sent apart.
# SQLite: the connection runs BEGIN IMMEDIATE (settings), which already holds
# the database's single write lock for the whole transaction.
_LOCK = f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})"
_NO_WAIT = "SET LOCAL synchronous_commit TO OFF"


def _lock_chain_and_read_head(*, flush_after_commit: bool) -> tuple[int, str, datetime | None]:
    """(seq, hash, created_at) of the last row, read once the chain is
    locked; (0, GENESIS, None) for an empty log."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            execute_direct(cursor, _HEAD)
        else:
            execute_direct(cursor, f"{_NO_WAIT}; {_LOCK}; {_HEAD}" if flush_after_commit else f"{_LOCK}; {_HEAD}")
        last = cursor.fetchone()
    if not last:
        return 0, GENESIS, None
    created_at = last[2]
    if created_at.tzinfo is None:  # SQLite's driver reads the stored UTC time as naive
        created_at = created_at.replace(tzinfo=UTC)
    return last[0], last[1], created_at


class RecordingInterrupted(Exception):
    """The database failed once the rows had been sent: while committing
    them or while waiting for them to reach the disk. They may be recorded
    or not; `rows` are what was sent (ids and seqs as they would stand)."""

    def __init__(self, rows: Sequence[Verification]) -> None:
        super().__init__(f"the database failed while recording audit rows seq {rows[0].seq}..{rows[-1].seq}")
        self.rows = list(rows)


def audit_commit(entries: Sequence[AuditEntry], *, at: datetime) -> list[Verification]:
    """Append the rows in a transaction of their own, commit, and return once
    they are on disk: the caller may then answer.

    The commit does not wait for the disk, so the chain's lock (PostgreSQL's
    advisory lock, SQLite's write lock) is released at once and the next
    append does not queue behind this one's fsync (appends would otherwise run
    one fsync at a time); the wait comes after, outside the lock, and the
    waits of concurrent requests share their flushes. Inside someone else's
    transaction, their commit is the one that counts: plain append.

    A database error before the rows were sent means nothing was recorded
    (the error goes up as it is); one after it, during the commit or the wait
    for the disk, is RecordingInterrupted: the database may have recorded
    them although it never said so, and the caller must say which rows."""
    if connection.in_atomic_block:
        with transaction.atomic():  # a savepoint: a failed append takes nothing else with it
            return audit_append(entries, at=at)
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        _execute("PRAGMA synchronous = NORMAL")  # WAL mode: commit without fsync; not inside a transaction
    sent: list[Verification] = []
    try:
        with transaction.atomic():
            sent = audit_append(entries, at=at, flush_after_commit=True)
        _flush_committed()
    except (DatabaseError, OSError) as exc:
        if sent:
            raise RecordingInterrupted(sent) from exc
        raise
    finally:
        if sqlite:
            _restore_full_sync()
    return sent


def _restore_full_sync() -> None:
    """Every other write of this connection commits with an fsync again; a
    connection that cannot be told so is closed (the next request opens one
    with the defaults)."""
    try:
        _execute("PRAGMA synchronous = FULL")
    except DatabaseError:
        connection.close()


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        execute_direct(cursor, sql)


def _flush_committed() -> None:
    """Return once every transaction this connection committed is on disk.
    PostgreSQL: a transaction that writes WAL commits synchronously, which
    flushes the WAL up to its own commit record, past every earlier commit.
    SQLite: fsync the write-ahead log (frames already checkpointed into the
    database were synced by the checkpoint); no log, nothing to wait for (an
    in-memory database)."""
    if connection.vendor == "postgresql":
        _execute("SELECT pg_logical_emit_message(true, 'recognition.audit', '')")
        return
    try:
        log = os.open(f"{connection.settings_dict['NAME']}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(log)
    finally:
        os.close(log)


def chain_rows(entries: Sequence[AuditEntry], *, at: datetime, seq: int, prev_hash: str) -> list[Verification]:
    """The rows that follow (seq, prev_hash), in order, chained; not saved."""
    rows = []
    randomness = os.urandom(16 * len(entries))  # the ids' (uuid4), drawn at once
    for n, entry in enumerate(entries):
        seq += 1
        row = Verification.unsaved(
            {
                **entry.__dict__,
                "id": uuid.UUID(bytes=randomness[16 * n : 16 * n + 16], version=4),
                "seq": seq,
                "created_at": at,
                "prev_hash": prev_hash,
                "hash": "",
            }
        )
        row.hash = prev_hash = chain_hash(prev_hash, hashed_fields(row))
        rows.append(row)
    return rows


def audit_append(
    entries: Sequence[AuditEntry], *, at: datetime, flush_after_commit: bool = False
) -> list[Verification]:
    """Append one row per entry, in order, gap-free and chained. Must run
    inside the caller's transaction so that the rows and the answer commit
    together. `flush_after_commit` is audit_commit's: the commit does not
    wait for the disk, audit_commit waits after it."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_append must run inside transaction.atomic")
    seq, prev_hash, head_at = _lock_chain_and_read_head(flush_after_commit=flush_after_commit)
    # created_at never decreases along the chain (the audit API turns since
    # and until into seq bounds on it; check_chain holds it): `at` is read
    # before the lock, so an append that waited for it may carry an earlier
    # instant than the head's. Such rows take the head's; the answer keeps
    # its evaluation instant.
    if head_at is not None and at < head_at:
        at = head_at
    rows = chain_rows(entries, at=at, seq=seq, prev_hash=prev_hash)
    Verification.objects.bulk_create(rows)
    return rows


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    records: int
    head: str
    first_broken_seq: int | None


def check_chain(rows: Iterable[Verification] | None = None) -> ChainReport:
    """Recompute the whole chain; report the first row whose seq, link or hash
    is wrong, or whose created_at is earlier than the previous row's (the
    audit API's time filters rely on that order, audit_append keeps it)."""
    if rows is None:
        rows = Verification.objects.order_by("seq").iterator(chunk_size=2000)
    expected_seq, prev_hash, prev_at, count, broken = 1, GENESIS, None, 0, None
    for row in rows:
        count += 1
        if broken is not None:
            continue  # keep counting: the report gives the total
        linked = row.seq == expected_seq and row.prev_hash == prev_hash
        in_order = prev_at is None or row.created_at >= prev_at
        if not linked or not in_order or chain_hash(prev_hash, hashed_fields(row)) != row.hash:
            broken = expected_seq
            continue
        expected_seq, prev_hash, prev_at = row.seq + 1, row.hash, row.created_at
    return ChainReport(intact=broken is None, records=count, head=prev_hash, first_broken_seq=broken)
