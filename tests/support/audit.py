"""The audit log for tests: an entry to record (`entry`), rows changed behind
the application's back (`tamper`), DESIGN §6's entry bytes and leaf hash
written out again without the service's code (`expected_entry`), and the
answer's `audit` member checked with a JOSE library we did not write
(`audit_of`)."""

import base64
import hashlib
import json
import time
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection
from jwcrypto import jwk, jws

from recognition.log.keys import log_key
from recognition.models import LogEntry, Verification
from recognition.services.audit import AuditEntry

AUDIT_TRIGGER = "recognition_verification_append_only"
LOG_TRIGGERS = {
    "recognition_logentry": "recognition_logentry_append_only",
    "recognition_logtile": "recognition_logtile_append_only",
    "recognition_checkpoint": "recognition_checkpoint_append_only",
    "recognition_cosignature": "recognition_cosignature_append_only",
    "recognition_verification": AUDIT_TRIGGER,
}
# The one setting that lets a TRUNCATE of the audit log through on PostgreSQL,
# and only for a role holding the table owner's privileges (migration 0007).
ALLOW_AUDIT_TRUNCATE = "SET LOCAL recognition.allow_audit_truncate = 'on'"


def entry(**overrides) -> AuditEntry:
    """An audit entry for record_decisions (a malformed token's rejection), with overrides."""
    fields = {
        "client": "test", "destination": "CN", "origin": "", "declared_origin": "", "issuer": "", "kid": "",
        "subject": "", "jti": "", "token_sha256": "0" * 64, "decision": "rejected", "reasons": ["malformed_token"],
        "agreement_id": None, "agreement_version": None,
    }  # fmt: skip
    return AuditEntry(**{**fields, **overrides})


def tamper(sql: str, params: list, *, table: str = "recognition_verification") -> None:
    """Change rows of the audit log behind the application's back, as someone
    with the table owner's rights could (on PostgreSQL the trigger is lifted
    for it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check of the rows
            # this test transaction inserted: run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {LOG_TRIGGERS[table]}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {LOG_TRIGGERS[table]}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# Every field of a decision, as DESIGN §6 puts it in the entry.
DECISION_FIELDS = (
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip


def expected_entry(row: Verification) -> bytes:
    """DESIGN §6 written out again, without the service's code: the canonical
    JSON (sorted keys, no spaces, UTF-8) of the decision's fields and its kind."""
    fields = {name: getattr(row, name) for name in DECISION_FIELDS}
    fields["id"] = str(row.id)
    fields["created_at"] = row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields["kind"] = "decision"
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(body: bytes) -> bytes:
    """RFC 9162 §2.1.1, written out again."""
    return hashlib.sha256(b"\x00" + body).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_receipt(receipt: str, entry: LogEntry) -> dict[str, Any]:
    """The receipt verifies with the log's key (jwcrypto, not our code) and
    promises this entry; its payload."""
    key = log_key()
    public = jwk.JWK(kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(key.public_key).rstrip(b"=").decode())
    token = jws.JWS()
    token.deserialize(receipt)
    token.verify(public, alg="EdDSA")
    header = token.jose_header
    assert (header["alg"], header["typ"], header["kid"]) == ("EdDSA", "audit-receipt+jwt", key.key_id.hex())
    payload = json.loads(token.payload)
    assert set(payload) == {"iss", "id", "leaf_hash", "iat"}
    assert (payload["iss"], payload["id"]) == (settings.AUDIT_LOG["ORIGIN"], str(entry.id))
    assert payload["leaf_hash"] == b64(bytes(entry.leaf_hash))
    assert abs(payload["iat"] - time.time()) < 120
    return payload


def audit_of(record: Verification, audit: dict[str, Any]) -> dict[str, Any]:
    """The `audit` member the answer about `record` must carry: the entry's
    id, its leaf hash (of the exact bytes DESIGN §6 describes) and a receipt
    that verifies. Returns it, with the answer's own receipt once checked."""
    entry = LogEntry.objects.get(id=record.id)
    assert bytes(entry.body) == expected_entry(record)
    assert bytes(entry.leaf_hash) == leaf_hash(expected_entry(record))
    check_receipt(audit["receipt"], entry)
    return {"id": str(record.id), "leaf_hash": b64(bytes(entry.leaf_hash)), "receipt": audit["receipt"]}
