"""DESIGN §6: appends stay one gap-free, correct chain under many concurrent
workers on PostgreSQL. Each worker is a thread with its own database
connection, all released at once by a barrier; the data is committed
(transactional tests), as it is between real workers."""

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from recognition.models import Verification
from recognition.services.audit import check_chain
from recognition.services.verification import Outcome, VerificationRequest, verify_credentials
from tests.support.actors import World, build_world
from tests.support.tokens import sign

WORKERS = 8
PER_WORKER = 25

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committed_world(transactional_db) -> World:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")
    return build_world()


def run_together(jobs: list[Callable[[], list[Outcome]]]) -> list[list[Outcome]]:
    """Run each job in its own thread and connection, all started at once;
    a job's exception is raised here."""
    barrier = threading.Barrier(len(jobs), timeout=30)

    def run(job: Callable[[], list[Outcome]]) -> list[Outcome]:
        try:
            barrier.wait()
            return job()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result(timeout=120) for future in futures]


def verifications(requests: list[VerificationRequest], client: str, *, batch: bool) -> Callable[[], list[Outcome]]:
    if batch:
        return lambda: verify_credentials(requests, client=client)
    return lambda: [outcome for request in requests for outcome in verify_credentials([request], client=client)]


def assert_log_is_one_intact_chain(expected_records: int) -> None:
    seqs = list(Verification.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected_records + 1))
    report = check_chain()
    assert (report.intact, report.records, report.first_broken_seq) == (True, expected_records, None)


def test_concurrent_workers_append_one_gap_free_intact_chain(committed_world):
    tokens = {f"worker-{n}": [sign(committed_world.cl) for _ in range(PER_WORKER)] for n in range(WORKERS)}
    jobs = [
        verifications([VerificationRequest(token, "CN", "CL") for token in mine], client, batch=False)
        for client, mine in tokens.items()
    ]

    answers = dict(zip(tokens, run_together(jobs), strict=True))

    assert Verification.objects.count() == WORKERS * PER_WORKER
    assert_log_is_one_intact_chain(WORKERS * PER_WORKER)
    rows = {row.id: row for row in Verification.objects.all()}
    answered_ids = [outcome.record.id for outcomes in answers.values() for outcome in outcomes]
    assert len(set(answered_ids)) == WORKERS * PER_WORKER
    for client, outcomes in answers.items():
        assert [outcome.decision.accepted for outcome in outcomes] == [True] * PER_WORKER
        for token, outcome in zip(tokens[client], outcomes, strict=True):
            row = rows[outcome.record.id]
            assert (row.seq, row.hash, row.client) == (outcome.record.seq, outcome.record.hash, client)
            assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()


def test_batch_of_100_gets_consecutive_seqs_under_contention(committed_world):
    batch = [VerificationRequest(sign(committed_world.cl), "CN") for _ in range(100)]
    jobs = [verifications(batch, "batch", batch=True)] + [
        verifications(
            [VerificationRequest(sign(committed_world.kz), "CN") for _ in range(10)], f"single-{n}", batch=False
        )
        for n in range(WORKERS - 1)
    ]

    batch_outcomes = run_together(jobs)[0]

    seqs = [outcome.record.seq for outcome in batch_outcomes]
    assert seqs == list(range(seqs[0], seqs[0] + 100))
    stored = Verification.objects.filter(client="batch").order_by("seq")
    assert [(row.seq, row.hash) for row in stored] == [(o.record.seq, o.record.hash) for o in batch_outcomes]
    assert_log_is_one_intact_chain(100 + (WORKERS - 1) * 10)
