"""Appending to and checking the audit chain (DESIGN §6).

hash = SHA-256(prev_hash || canonical JSON of the record's other fields),
where prev_hash is the previous row's 64 hex digits (ASCII) and the JSON has
sorted keys, no spaces and is UTF-8; the first prev_hash is 64 zeros.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from recognition.audit_models import Verification

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


def chain_hash(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    # PostgreSQL: one appender at a time, held to the end of the transaction.
    # SQLite: the connection runs BEGIN IMMEDIATE (settings), which already
    # holds the database's single write lock for the whole transaction.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPEND_LOCK])


def audit_append(entries: Sequence[AuditEntry], *, at: datetime) -> list[Verification]:
    """Append one row per entry, in order, gap-free and chained. Must run
    inside the caller's transaction so that the rows and the answer commit
    together."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_append must run inside transaction.atomic")
    _lock_chain()
    last = Verification.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = last if last else (0, GENESIS)
    rows = []
    for entry in entries:
        seq += 1
        row = Verification(seq=seq, created_at=at, prev_hash=prev_hash, **entry.__dict__)
        row.hash = chain_hash(prev_hash, hashed_fields(row))
        prev_hash = row.hash
        rows.append(row)
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
    is wrong."""
    if rows is None:
        rows = Verification.objects.order_by("seq").iterator(chunk_size=2000)
    expected_seq, prev_hash, count, broken = 1, GENESIS, 0, None
    for row in rows:
        count += 1
        if broken is not None:
            continue  # keep counting: the report gives the total
        linked = row.seq == expected_seq and row.prev_hash == prev_hash
        if not linked or chain_hash(prev_hash, hashed_fields(row)) != row.hash:
            broken = expected_seq
            continue
        expected_seq, prev_hash = row.seq + 1, row.hash
    return ChainReport(intact=broken is None, records=count, head=prev_hash, first_broken_seq=broken)


def audit_write(entries: Sequence[AuditEntry], *, at: datetime) -> list[Verification]:
    with transaction.atomic():
        return audit_append(entries, at=at)
