"""Trust lists built by the service (recognition/services/trust_lists.py):
workers building the same country's list at once give one sequence number
for one content (what the API serves: tests/api/test_trust_lists.py)."""

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from recognition.models import TrustListState
from recognition.services import agreements as agreement_services
from recognition.services.registry_keys import registry_key_rotate
from recognition.services.trust_lists import trust_list_jws
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

    def build_together(workers: int = 8) -> set[int]:
        barrier = threading.Barrier(workers, timeout=30)

        def build() -> int:
            try:
                barrier.wait()
                return unverified_payload(trust_list_jws("CN"))["sequence"]
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return {future.result(timeout=60) for future in [pool.submit(build) for _ in range(workers)]}

    assert build_together() == {1}  # the first creation of the state races too
    agreement_services.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert build_together() == {2}
    assert TrustListState.objects.get(country="CN").sequence == 2
