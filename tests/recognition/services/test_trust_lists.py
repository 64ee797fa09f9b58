"""Trust lists built by the service (recognition/services/trust_lists.py):
workers building the same country's list at once give one sequence number
and one signed list for one content, and a worker that starts afresh serves
the bytes the others serve (what the API serves: tests/api/test_trust_lists.py,
tests/api/test_conditional_get.py)."""

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from recognition.models import TrustListState
from recognition.services import agreements as agreement_services
from recognition.services import trust_lists
from recognition.services.registry_keys import registry_key_rotate
from recognition.services.trust_lists import trust_list, trust_list_jws
from tests.support.actors import build_world


def _segment(compact: str, index: int) -> dict:
    segment = compact.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def unverified_payload(compact: str) -> dict:
    return _segment(compact, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_builds_give_one_sequence_per_content(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    world = build_world()
    registry_key_rotate()

    def build_together(workers: int = 8) -> set[str]:
        barrier = threading.Barrier(workers, timeout=30)

        def build() -> str:
            try:
                barrier.wait()
                return trust_list_jws("CN")
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return {future.result(timeout=60) for future in [pool.submit(build) for _ in range(workers)]}

    (first,) = build_together()  # the first creation of the state races too; one list is signed
    assert unverified_payload(first)["sequence"] == 1
    agreement_services.agreement_suspend(agreement=world.cn_recognizes_cl)
    (second,) = build_together()
    assert unverified_payload(second)["sequence"] == 2
    assert TrustListState.objects.get(country="CN").sequence == 2


@pytest.fixture
def registry(db, settings, tmp_path):
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    registry_key_rotate()
    return build_world()


def test_a_worker_that_starts_afresh_serves_the_bytes_the_others_serve(registry, monkeypatch):
    served = trust_list("CN")
    monkeypatch.setattr(trust_lists, "_served", {})  # another worker process: nothing in its memory
    again = trust_list("CN")
    assert (again.body, again.etag, again.iat) == (served.body, served.etag, served.iat)
    assert TrustListState.objects.get(country="CN").jws == served.body.decode()


def test_a_change_made_by_another_worker_is_seen_by_this_one(registry):
    """The write's transaction gives the registry stamp a new value
    (migration 0005): the copy this worker holds is not served again."""
    served = trust_list("CN")
    agreement_services.agreement_suspend(agreement=registry.cn_recognizes_cl)
    after = trust_list("CN")
    assert after.etag != served.etag
    assert (
        unverified_payload(after.body.decode())["sequence"] == unverified_payload(served.body.decode())["sequence"] + 1
    )
    assert trust_list("CN") is after  # kept again until the next change


def test_a_changed_issuer_or_lifetime_is_in_the_next_list(registry, settings, monkeypatch):
    served = trust_list("CN")
    monkeypatch.setattr(trust_lists, "_served", {})  # a process started with the new settings
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://registry.example.org"}
    renamed = trust_list("CN")
    assert renamed.etag != served.etag
    assert unverified_payload(renamed.body.decode())["iss"] == "https://registry.example.org"
    monkeypatch.setattr(trust_lists, "_served", {})
    settings.REGISTRY = {**settings.REGISTRY, "TRUST_LIST_TTL_SECONDS": 3600}
    payload = unverified_payload(trust_list("CN").body.decode())
    assert payload["exp"] - payload["iat"] == 3600
    assert payload["sequence"] == unverified_payload(served.body.decode())["sequence"]
