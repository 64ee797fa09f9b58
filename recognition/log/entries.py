"""The bytes of a log entry (DESIGN §6): the canonical JSON of its fields
(sorted keys, no spaces, UTF-8, not \\u escapes) with `"kind": "decision"` or
`"kind": "change"`. The leaf hash is SHA-256(0x00 || bytes), and the bytes
are stored exactly as hashed: a verifier needs nothing but them.

A decision entry holds the fields of the `Verification` row. A change entry
is written for every history record of the registry's models, in the same
transaction as the change: what changed (model, object id, history id, the
change type `+` `~` `-`), the new values of every field, who, when and why.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

from recognition.log.tree import leaf_hash

# An entry travels in C2SP data tiles behind a 16-bit length.
MAX_ENTRY_BYTES = 65535

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(fields: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(fields).encode("utf-8")


def timestamp(value: datetime) -> str:
    """An instant in an entry: UTC, always with microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    """An entry ready to be written: its id, kind, instant, bytes and leaf hash."""

    id: uuid.UUID
    kind: str
    created_at: datetime
    body: bytes
    leaf_hash: bytes


def make_entry(kind: str, id: uuid.UUID, created_at: datetime, fields: dict[str, Any]) -> Entry:
    body = canonical({**fields, "kind": kind, "id": str(id), "created_at": timestamp(created_at)})
    if len(body) > MAX_ENTRY_BYTES:
        raise ValueError(f"a log entry is at most {MAX_ENTRY_BYTES} bytes; this {kind} would be {len(body)}")
    return Entry(id=id, kind=kind, created_at=created_at, body=body, leaf_hash=leaf_hash(body))


# Decisions ------------------------------------------------------------------------------------

DECISION_FIELDS = (
    "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti", "token_sha256",
    "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip


def decision_entry(id: uuid.UUID, created_at: datetime, fields: dict[str, Any]) -> Entry:
    """The entry of one decision: `fields` holds DECISION_FIELDS (the
    Verification row's values but its id and created_at)."""
    return make_entry("decision", id, created_at, {name: fields[name] for name in DECISION_FIELDS})


# Registry changes -----------------------------------------------------------------------------


def _value(value: Any) -> Any:
    """A field value as JSON: instants as entry timestamps, countries as
    their codes, anything else JSON already knows."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "code") and isinstance(value.code, str):  # django-countries' Country
        return value.code
    return value


def change_values(history: models.Model) -> dict[str, Any]:
    """The new values of every tracked field of a history record (foreign
    keys by id), and the codes of its many-to-many relations as of that
    version."""
    values = {}
    for field in history.instance_type._meta.concrete_fields:
        values[field.attname] = _value(getattr(history, field.attname))
    for field in getattr(history, "_history_m2m_fields", ()):
        # simple-history keeps a version's relations in "Historical<Model>_<field>".
        versions = apps.get_model(history._meta.app_label, f"{type(history).__name__}_{field.name}")
        target = field.related_model._meta.model_name
        rows = versions.objects.filter(history=history).select_related(target)
        values[field.name] = sorted(str(getattr(row, target)) for row in rows)
    return values


def change_entry(history: models.Model) -> Entry:
    """The entry of one history record (simple-history), the record's own
    instant being the entry's."""
    model = history.instance_type._meta
    user = history.history_user
    fields = {
        "model": model.label_lower,
        "object_id": str(getattr(history, model.pk.attname)),
        "history_id": history.history_id,
        "change_type": history.history_type,
        "values": change_values(history),
        "user": user.get_username() if user is not None else None,
        "reason": history.history_change_reason or "",
    }
    # The OS login of the operator, for a change made by a command.
    if getattr(history, "history_operator", ""):
        fields["operator"] = history.history_operator
    return make_entry("change", uuid.uuid4(), history.history_date, fields)
