"""Audit rows for tests: an entry to append (`entry`), and rows changed
behind the application's back (`tamper`)."""

from django.db import connection

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
