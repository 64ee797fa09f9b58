"""What migration 0010 writes: the log entries of everything recorded before
the transparency log existed, so that nothing is lost (DESIGN §6).

- Every row of the audit chain becomes a decision entry, numbered in its old
  order (leaf index = its chain seq - 1). Its chain values (seq, prev_hash,
  hash) are kept in the entry as `legacy_chain`, so that a receipt of the
  chain stays checkable against the log.
- Every history record of the tracked models becomes a change entry, in time
  order, after them (the integrator numbers them).

A frozen copy of recognition/log/entries.py's format, as a migration must
be: it reads historical models, not today's code.
"""

import hashlib
import json
import uuid
from datetime import UTC

CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
DECISION_FIELDS = (
    "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti", "token_sha256",
    "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip
TRACKED = (
    ("identity", "Authority"),
    ("identity", "AuthorityKey"),
    ("identity", "Merchant"),
    ("identity", "CredentialType"),
    ("identity", "IssuedCredential"),
    ("recognition", "RecognitionAgreement"),
)
CHUNK = 2000


def timestamp(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(LogEntry, kind, id, created_at, fields, seq=None):
    body = CANONICAL.encode({**fields, "kind": kind, "id": str(id), "created_at": timestamp(created_at)})
    body = body.encode("utf-8")
    leaf = hashlib.sha256(b"\x00" + body).digest()
    return LogEntry(id=id, kind=kind, created_at=created_at, body=body, leaf_hash=leaf, seq=seq)


def decisions(apps, LogEntry):
    Verification = apps.get_model("recognition", "Verification")
    batch = []
    for row in Verification.objects.order_by("seq").iterator(chunk_size=CHUNK):
        fields = {name: getattr(row, name) for name in DECISION_FIELDS}
        fields["legacy_chain"] = {"seq": row.seq, "prev_hash": row.prev_hash, "hash": row.hash}
        batch.append(entry(LogEntry, "decision", row.id, row.created_at, fields, seq=row.seq - 1))
        if len(batch) >= CHUNK:
            LogEntry.objects.bulk_create(batch)
            batch = []
    LogEntry.objects.bulk_create(batch)


def value(field_value):
    if hasattr(field_value, "tzinfo") and hasattr(field_value, "hour"):
        return timestamp(field_value)
    if hasattr(field_value, "code") and isinstance(field_value.code, str):
        return field_value.code
    return field_value


def changes(apps, LogEntry):
    records = []
    for app_label, name in TRACKED:
        History = apps.get_model(app_label, f"Historical{name}")
        tracked = [f for f in History._meta.concrete_fields if not f.name.startswith("history_")]
        m2m = None
        if name == "RecognitionAgreement":
            m2m = apps.get_model(app_label, f"Historical{name}_credential_types")
        for record in History.objects.select_related("history_user").iterator(chunk_size=CHUNK):
            values = {f.attname: value(getattr(record, f.attname)) for f in tracked}
            if m2m is not None:
                rows = m2m.objects.filter(history_id=record.history_id).select_related("credentialtype")
                values["credential_types"] = sorted(row.credentialtype.code for row in rows)
            user = record.history_user
            fields = {
                "model": f"{app_label}.{name.lower()}",
                "object_id": str(record.id),
                "history_id": record.history_id,
                "change_type": record.history_type,
                "values": values,
                "user": user.username if user is not None else None,
                "reason": record.history_change_reason or "",
            }
            records.append((record.history_date, name, record.history_id, fields))
    records.sort(key=lambda item: item[:3])
    for start in range(0, len(records), CHUNK):
        LogEntry.objects.bulk_create(
            [entry(LogEntry, "change", uuid.uuid4(), at, fields) for at, _, _, fields in records[start : start + CHUNK]]
        )


def log_what_was_recorded(apps, schema_editor):
    LogEntry = apps.get_model("recognition", "LogEntry")
    LogState = apps.get_model("recognition", "LogState")
    from django.utils import timezone

    LogState.objects.create(id=1, size=0, root=hashlib.sha256(b"").digest(), updated_at=timezone.now())
    decisions(apps, LogEntry)
    changes(apps, LogEntry)


def refuse_to_forget_decisions(apps, schema_editor):
    """Backwards, first of all (the chain's columns come back NOT NULL after
    this): the chain cannot be rebuilt from a log that grew, so a database
    that holds decisions refuses rather than lose them."""
    if apps.get_model("recognition", "Verification").objects.exists():
        raise RuntimeError("migration 0010 (the transparency log) cannot be reversed once decisions are recorded")


def forget_the_log(apps, schema_editor):
    """Backwards, once refuse_to_forget_decisions found no decision."""
    for name in ("LogEntry", "LogState", "LogTile", "Checkpoint", "LogPublicKey"):
        apps.get_model("recognition", name).objects.all().delete()
