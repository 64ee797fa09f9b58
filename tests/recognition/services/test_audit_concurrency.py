"""DESIGN §6 under contention on PostgreSQL: many workers record decisions at
once while integrators run beside them, and every decision ends up in the
log exactly once: leaf indices 0..n-1 with no gap and none twice, the tree's
root the root of the leaves in that order, every checkpoint the tree of its
size, and the log checks intact. Each worker and each integrator is a
thread with its own database connection, all released at once by a
barrier; the data is committed (transactional tests), as between real
workers."""

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from recognition.log import tree
from recognition.log.integrator import integrate, integrate_all
from recognition.log.integrity import check_log
from recognition.models import Checkpoint, LogEntry, LogState, Verification
from recognition.services.verification import Outcome, VerificationRequest, verify_credentials
from tests.support.actors import World, build_world
from tests.support.audit import check_receipt, expected_entry, leaf_hash
from tests.support.cli import call
from tests.support.tokens import sign

WORKERS = 8
PER_WORKER = 25

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committed_world(transactional_db, settings) -> World:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0.05}
    return build_world()


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread and connection, all started at once;
    a job's exception is raised here."""
    barrier = threading.Barrier(len(jobs), timeout=30)

    def run(job: Callable[[], Any]) -> Any:
        try:
            barrier.wait()
            return job()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result(timeout=180) for future in futures]


def verifications(requests: list[VerificationRequest], client: str, *, batch: bool) -> Callable[[], list[Outcome]]:
    if batch:
        return lambda: verify_credentials(requests, client=client)
    return lambda: [outcome for request in requests for outcome in verify_credentials([request], client=client)]


def integrator(writers_done: threading.Event) -> Callable[[], list[int]]:
    """Small batches, over and over, while the writers write; what each placed."""

    def job() -> list[int]:
        placed = []
        while not writers_done.is_set():
            placed.append(integrate(batch=7).placed)
            time.sleep(0.001)
        return placed

    return job


def writers_then(done: threading.Event, jobs: list[Callable[[], Any]]) -> list[Callable[[], Any]]:
    """The writers' jobs, `done` set once the last of them finished."""
    remaining = [len(jobs)]
    lock = threading.Lock()

    def finishing(job: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return job()
            finally:
                with lock:
                    remaining[0] -= 1
                    if not remaining[0]:
                        done.set()

        return run

    return [finishing(job) for job in jobs]


def assert_the_log_holds_every_entry_once() -> list[bytes]:
    entries = list(LogEntry.objects.order_by("seq").values_list("seq", "leaf_hash"))
    assert [seq for seq, _ in entries] == list(range(len(entries)))  # no gap, none twice, none pending
    leaves = [bytes(leaf) for _, leaf in entries]
    state = LogState.objects.get()
    assert (state.size, bytes(state.root)) == (len(leaves), tree.root_of(leaves))
    for checkpoint in Checkpoint.objects.all():
        assert bytes(checkpoint.root) == tree.root_of(leaves[: checkpoint.size])
    report = check_log()
    assert (report.intact, report.size, report.root, report.first_bad_seq) == (
        True,
        len(leaves),
        tree.root_of(leaves),
        None,
    )
    assert call("verify_audit_log").stdout.startswith(f"audit log intact: {len(leaves)} leaves")
    return leaves


def test_concurrent_workers_and_integrators_put_every_decision_in_the_log_once(committed_world):
    tokens = {f"worker-{n}": [sign(committed_world.cl) for _ in range(PER_WORKER)] for n in range(WORKERS)}
    done = threading.Event()
    writers = writers_then(
        done,
        [
            verifications([VerificationRequest(token, "CN", "CL") for token in mine], client, batch=False)
            for client, mine in tokens.items()
        ],
    )

    results = run_together([*writers, integrator(done), integrator(done)])
    integrate_all()

    answers = dict(zip(tokens, results[:WORKERS], strict=True))
    placed_concurrently = sum(results[WORKERS]) + sum(results[WORKERS + 1])
    # The integrators placed decisions while the writers wrote, not only the world's changes.
    assert placed_concurrently > LogEntry.objects.filter(kind="change").count()
    assert Verification.objects.count() == WORKERS * PER_WORKER
    leaves = assert_the_log_holds_every_entry_once()
    rows = {row.id: row for row in Verification.objects.all()}
    entries = {entry.id: entry for entry in LogEntry.objects.filter(kind="decision")}
    answered = [outcome.record for outcomes in answers.values() for outcome in outcomes]
    assert {record.id for record in answered} == set(rows) == set(entries)
    for client, outcomes in answers.items():
        assert [outcome.decision.accepted for outcome in outcomes] == [True] * PER_WORKER
        for token, outcome in zip(tokens[client], outcomes, strict=True):
            row, entry = rows[outcome.record.id], entries[outcome.record.id]
            assert (row.client, row.token_sha256) == (client, hashlib.sha256(token.encode()).hexdigest())
            assert bytes(entry.body) == expected_entry(row) and bytes(entry.leaf_hash) == leaf_hash(expected_entry(row))
            assert leaves[entry.seq] == bytes(entry.leaf_hash)
            check_receipt(outcome.record.receipt, entry)


def test_a_batch_of_100_is_recorded_whole_at_one_instant_under_contention(committed_world):
    batch = [VerificationRequest(sign(committed_world.cl), "CN") for _ in range(100)]
    done = threading.Event()
    writers = writers_then(
        done,
        [verifications(batch, "batch", batch=True)]
        + [
            verifications(
                [VerificationRequest(sign(committed_world.kz), "CN") for _ in range(10)], f"single-{n}", batch=False
            )
            for n in range(WORKERS - 1)
        ],
    )

    batch_outcomes = run_together([*writers, integrator(done)])[0]
    integrate_all()

    ids = [outcome.record.id for outcome in batch_outcomes]
    stored = {row.id: row for row in Verification.objects.filter(client="batch")}
    assert set(stored) == set(ids) and len(ids) == 100
    assert len({row.created_at for row in stored.values()}) == 1
    assert [stored[id].token_sha256 for id in ids] == [
        hashlib.sha256(request.token.encode()).hexdigest() for request in batch
    ]
    assert Verification.objects.count() == 100 + (WORKERS - 1) * 10
    assert_the_log_holds_every_entry_once()
