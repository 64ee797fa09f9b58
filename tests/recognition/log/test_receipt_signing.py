"""Receipts as the request path signs them (recognition/log/receipts.py): the
key looked up once a request however many decisions it records, and the
payload's bytes exactly json.dumps' (a JOSE library checks the rest:
tests/support/audit.py check_receipt)."""

import base64
import json

from django.utils import timezone

from recognition.log import keys
from recognition.log.receipts import sign_receipt
from recognition.models import LogEntry
from recognition.services.audit import record_decisions
from tests.support.audit import check_receipt, entry


def payload_bytes(receipt: str) -> bytes:
    part = receipt.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_a_batch_looks_the_log_key_up_once_for_all_its_receipts(db, monkeypatch):
    loads = []
    load = keys.KEY_FILE.load
    monkeypatch.setattr(keys.KEY_FILE, "load", lambda **kwargs: loads.append(1) or load(**kwargs))

    recorded = record_decisions([entry(client=f"platform-{n}") for n in range(20)], at=timezone.now())

    assert len(loads) == 1
    assert len({item.receipt for item in recorded}) == 20
    for item in recorded:
        check_receipt(item.receipt, LogEntry.objects.get(id=item.id))


def test_the_payload_is_the_json_dumps_of_its_members(db, settings):
    (item,) = record_decisions([entry()], at=timezone.now())
    payload = json.loads(payload_bytes(item.receipt))

    assert payload_bytes(item.receipt) == json.dumps(payload, separators=(",", ":")).encode()
    assert list(payload) == ["iss", "id", "leaf_hash", "iat"]


def test_an_origin_that_needs_escaping_is_written_as_json_dumps_writes_it(db, settings):
    key = keys.log_key()
    (item,) = record_decisions([entry()], at=timezone.now())
    stored = LogEntry.objects.get(id=item.id)
    for name in ('registry.example/"audit"', "régistre.example/audit", "back\\slash.example/audit"):
        signed = sign_receipt(keys.LogKey(key.private_key, key.public_key, name, key.key_id, key.vkey), stored, iat=7)
        expected = {
            "iss": name,
            "id": str(stored.id),
            "leaf_hash": base64.b64encode(stored.leaf_hash).decode(),
            "iat": 7,
        }
        assert payload_bytes(signed) == json.dumps(expected, separators=(",", ":")).encode()
