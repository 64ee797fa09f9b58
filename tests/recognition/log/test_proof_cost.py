"""What a proof costs (DESIGN §6: "any inclusion or consistency proof costs
O(log n) reads"): the database queries of `GET entries/{id}/proof` and of
`GET consistency` on a log of about 1,000 leaves and on one of about 70,000
(past two tile levels) stay a small constant, the larger at most twice the
smaller. The large log is made fast: its entries inserted in bulk, then
integrated as the integrator does."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_key_create
from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.models import LogEntry
from tests.support.api import keyed
from tests.support.log_api import LOG, b64decode, check_inclusion, vkeys

SMALL, LARGE = 1_000, 70_000
MAX_QUERIES = 12


def append_entries(count: int) -> None:
    """`count` change entries, inserted in bulk and integrated."""
    start = timezone.now() - timedelta(days=1)
    rows = []
    for n in range(count):
        id = uuid.uuid4()
        body = json.dumps({"id": str(id), "kind": "change", "n": n}, separators=(",", ":")).encode()
        created_at = start + timedelta(microseconds=n)
        rows.append(LogEntry(id=id, kind="change", created_at=created_at, body=body, leaf_hash=tree.leaf_hash(body)))
    LogEntry.objects.bulk_create(rows, batch_size=5000)
    integrate_all()


def queries_of(client, path: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()


def costliest(client, size: int) -> tuple[int, int]:
    """The most queries any of a spread of inclusion proofs takes in the tree
    of `size` leaves, and of a spread of consistency proofs."""
    vkey = vkeys()[0]
    inclusion = 0
    for seq in sorted({0, 1, 255, 256, size // 2, size - 257, size - 2, size - 1}):
        entry_id = LogEntry.objects.filter(seq=seq).values_list("id", flat=True).get()
        count, proof = queries_of(client, f"{LOG}entries/{entry_id}/proof")
        assert check_inclusion(proof, vkey) == seq and proof["size"] == size
        inclusion = max(inclusion, count)
    consistency = 0
    for first in sorted({1, 255, 256, 257, size // 3, size - 1, size}):
        count, proof = queries_of(client, f"{LOG}consistency?first={first}&second={size}")
        assert (proof["first"], proof["second"]) == (first, size)
        assert len(proof["proof"]) <= 2 * size.bit_length()
        assert all(len(b64decode(h)) == tree.HASH_SIZE for h in proof["proof"])
        consistency = max(consistency, count)
    return inclusion, consistency


@pytest.mark.slow
def test_a_proof_reads_a_handful_of_rows_however_large_the_log(db, settings):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    regulator = keyed(api_key_create(name="market-regulator", role="regulator")[1])
    append_entries(SMALL)
    small = costliest(regulator, SMALL)

    append_entries(LARGE - SMALL)
    large = costliest(regulator, LARGE)

    assert max(large) <= MAX_QUERIES, f"inclusion, consistency: {small} queries at {SMALL}, {large} at {LARGE}"
    for at_small, at_large in zip(small, large, strict=True):
        assert at_large <= 2 * at_small, f"inclusion, consistency: {small} queries at {SMALL}, {large} at {LARGE}"
