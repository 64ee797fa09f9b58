"""Audit rows for tests: an entry to append (`entry`), rows changed behind
the application's back (`tamper`), and DESIGN §6's chain hash written out
again without the service's code (`expected_hash`), the oracle the chain is
checked against."""

import hashlib
import json
from datetime import UTC

from django.db import connection

from recognition.models import Verification
from recognition.services.audit import AuditEntry

AUDIT_TRIGGER = "recognition_verification_append_only"
# The one setting that lets a TRUNCATE of the audit log through on PostgreSQL,
# and only for a role holding the table owner's privileges (migration 0007).
ALLOW_AUDIT_TRUNCATE = "SET LOCAL recognition.allow_audit_truncate = 'on'"


def entry(**overrides) -> AuditEntry:
    """An audit entry for audit_commit (a malformed token's rejection), with overrides."""
    fields = {
        "client": "test", "destination": "CN", "origin": "", "declared_origin": "", "issuer": "", "kid": "",
        "subject": "", "jti": "", "token_sha256": "0" * 64, "decision": "rejected", "reasons": ["malformed_token"],
        "agreement_id": None, "agreement_version": None,
    }  # fmt: skip
    return AuditEntry(**{**fields, **overrides})


def tamper(sql: str, params: list) -> None:
    """Change audit rows behind the application's back, as someone with the
    table owner's rights could (on PostgreSQL the trigger is lifted for it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check of the rows
            # this test transaction inserted: run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE recognition_verification DISABLE TRIGGER {AUDIT_TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE recognition_verification ENABLE TRIGGER {AUDIT_TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


GENESIS = "0" * 64

# Every field of a row but prev_hash and hash, as DESIGN §6 hashes them.
HASHED = (
    "id", "seq", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid",
    "subject", "jti", "token_sha256", "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip


def expected_hash(prev_hash: str, row: Verification) -> str:
    """DESIGN §6 written out again, without the service's code:
    SHA-256(prev_hash || canonical JSON of the other fields)."""
    fields = {name: getattr(row, name) for name in HASHED}
    fields["id"] = str(row.id)
    fields["created_at"] = row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()
