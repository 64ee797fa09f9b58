"""The audit chain (DESIGN §6) as the service makes it: its hash covers
every field of a row but the chain links, the README's worked example is
what the code computes, and created_at never decreases along the chain (an
append evaluated before the head's instant is recorded at the head's; the
audit API's time range relies on it: tests/api/test_audit_time_range.py)."""

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recognition.models import Verification
from recognition.services import audit
from recognition.services.audit import audit_commit, check_chain
from tests.support.audit import GENESIS, HASHED, entry, expected_hash

T = datetime(2026, 3, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_hash_covers_every_field_but_the_chain_links():
    fields = {field.attname for field in Verification._meta.concrete_fields}
    assert fields - {"prev_hash", "hash"} == set(HASHED)


def test_readme_example_of_the_audit_hash_is_what_the_code_computes(settings):
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    prev_hash = re.search(r"^\$ prev_hash=([0-9a-f]{64})$", readme, re.MULTILINE)[1]
    text = re.search(r"^\$ json='(\{.*\})'$", readme, re.MULTILINE)[1]
    digest = re.search(r"^([0-9a-f]{64})  -$", readme, re.MULTILINE)[1]
    fields = json.loads(text)
    row = Verification(
        **{**fields, "id": uuid.UUID(fields["id"]), "created_at": datetime.fromisoformat(fields["created_at"])}
    )

    assert (prev_hash, list(fields)) == (GENESIS, sorted(HASHED))
    assert hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest() == digest
    # The service writes exactly this JSON for such a row, and so this hash.
    assert audit._CANONICAL.encode(audit.hashed_fields(row)) == text
    assert audit.chain_hash(prev_hash, audit.hashed_fields(row)) == expected_hash(prev_hash, row) == digest
    # The example answer shows the same row.
    assert f'"id": "{fields["id"]}"' in readme and f'"hash": "{digest}"' in readme


# created_at never decreases along the chain -------------------------------------------------------


def created(seq: int) -> datetime:
    return Verification.objects.get(seq=seq).created_at


def test_an_append_evaluated_before_the_head_is_recorded_at_the_head_instant(world):
    audit_commit([entry()], at=T)
    late = audit_commit([entry(), entry()], at=T - timedelta(hours=1))  # a worker that waited for the lock
    assert [row.created_at for row in late] == [T, T]
    audit_commit([entry()], at=T + SECOND)
    assert [created(seq) for seq in (1, 2, 3, 4)] == [T, T, T, T + SECOND]
    assert check_chain().intact


def test_rows_sharing_an_instant_keep_the_chain_in_order(world):
    audit_commit([entry()] * 3, at=T)
    audit_commit([entry()], at=T)
    assert check_chain().intact
