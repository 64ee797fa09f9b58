"""The pusher (DESIGN §11): each new checkpoint goes to every active witness
with tlog-witness add-checkpoint; a 409 is answered by one retry from the
size it gives; every cosignature is verified before it is stored; every push
that ends without one is stored as a WitnessEvent and logged with its
reason. The HTTP requests run in their own threads: a slow witness holds
neither the other witnesses nor a verification."""

import logging
import socket
import threading
import time

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.notes import parse_vkey, verify_note
from recognition.log.proofs import served_checkpoint
from recognition.log.pusher import (
    COSIGNED,
    SUPERSEDED,
    Answer,
    Pusher,
    attempt_for,
    conclude,
    push_latest,
    record,
)
from recognition.log.witnesses import active_vkeys
from recognition.log.witnessing import SIZE_MEDIA_TYPE
from recognition.models import Checkpoint, Cosignature, Witness, WitnessEvent, WitnessOutcome
from recognition.services.witnesses import witness_add, witness_retire
from tests.recognition.services.test_witnesses import witness_vkey
from tests.support.api import Api
from tests.support.hostile import post_token
from tests.support.log_api import grow
from tests.support.witness import Misbehaviour, RunningWitness


def register(running: RunningWitness, country: str = "CL") -> Witness:
    w = running.witness
    return witness_add(name=w.name, country=country, url=running.url, vkey=w.vkey)


def outcomes_by_witness(outcomes) -> dict[str, str]:
    return {outcome.witness: outcome.outcome for outcome in outcomes}


def test_every_active_witness_cosigns_and_each_cosignature_is_verified_and_stored(db, settings, start_test_witness):
    first, second = start_test_witness("witness.cl.test/w1"), start_test_witness("witness.kz.test/w2")
    register(first), register(second, "KZ")
    size = grow(settings, decisions=3)

    outcomes = push_latest()

    assert outcomes_by_witness(outcomes) == {"witness.cl.test/w1": COSIGNED, "witness.kz.test/w2": COSIGNED}
    checkpoint = Checkpoint.objects.get(size=size)
    stored = list(Cosignature.objects.filter(checkpoint=checkpoint).order_by("witness__name"))
    assert len(stored) == 2
    for cosignature in stored:
        verifier = parse_vkey(cosignature.witness.vkey)
        _, verified = verify_note(checkpoint.note + cosignature.line, [verifier])
        assert verified == [verifier]
        assert abs(cosignature.timestamp - time.time()) < 60
    assert not WitnessEvent.objects.exists()
    assert sorted(active_vkeys()) == sorted([first.witness.vkey, second.witness.vkey])


def test_the_next_checkpoint_is_sent_from_the_size_cosigned_with_the_consistency_proof(
    db, settings, start_test_witness
):
    running = start_test_witness()
    register(running)
    first = grow(settings, decisions=3)
    push_latest()
    grow(settings, decisions=4)

    assert outcomes_by_witness(push_latest()) == {running.witness.name: COSIGNED}
    assert running.witness.requests == [0, first]  # old sizes: none yet, then the one it cosigned
    assert Cosignature.objects.filter(witness__name=running.witness.name).count() == 2


def test_a_checkpoint_already_cosigned_is_not_sent_again(db, settings, start_test_witness):
    running = start_test_witness()
    register(running)
    grow(settings, decisions=3)
    push_latest()
    assert push_latest() == []
    assert running.witness.requests == [0]


def test_a_409_is_answered_by_one_retry_from_the_size_the_witness_gives(db, settings, start_test_witness):
    running = start_test_witness()
    register(running)
    first = grow(settings, decisions=3)
    known = Checkpoint.objects.get(size=first)
    # The witness cosigned it through another path: this database does not know it.
    running.witness.state[running.witness.log_vkeys[0].split("+")[0]] = (first, bytes(known.root))
    grow(settings, decisions=2)

    assert outcomes_by_witness(push_latest()) == {running.witness.name: COSIGNED}
    assert running.witness.requests == [0, first]
    assert not WitnessEvent.objects.exists()


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, b"bad request"), (403, b"no trusted signature"), (404, b"unknown log"), (500, b"boom"), (503, b"")],
)
def test_an_http_refusal_is_stored_and_logged_with_its_reason(db, settings, start_test_witness, caplog, status, body):
    running = start_test_witness()
    running.witness.misbehave = Misbehaviour(status=status, body=body)
    register(running)
    size = grow(settings, decisions=3)

    with caplog.at_level(logging.WARNING, logger="recognition.log.pusher"):
        push_latest()

    event = WitnessEvent.objects.get()
    assert (event.outcome, event.http_status, event.size) == (WitnessOutcome.REFUSED, status, size)
    assert f"HTTP {status}" in event.reason and (body.decode() or "(empty body)") in event.reason
    assert any(running.witness.name in r.message and f"HTTP {status}" in r.message for r in caplog.records)
    assert not Cosignature.objects.exists()


def test_a_409_that_stays_after_the_retry_is_a_refusal(db, settings, start_test_witness):
    running = start_test_witness()
    running.witness.misbehave = Misbehaviour(status=409, body=b"1\n")
    register(running)
    grow(settings, decisions=3)
    push_latest()
    event = WitnessEvent.objects.get()
    assert (event.outcome, event.http_status, event.witness_size) == (WitnessOutcome.REFUSED, 409, 1)
    assert "409 again after 3 retries, the last from size 1" in event.reason


def test_a_409_naming_a_later_checkpoint_of_this_log_is_superseded_not_a_split_view(db, settings, start_test_witness):
    """Several web processes push: one may find the witness already at a
    later checkpoint another pushed. That is no refusal; a size beyond the
    log's latest checkpoint is a split view."""
    witness = register(start_test_witness())
    older = Checkpoint.objects.get(size=grow(settings, decisions=2))
    later = grow(settings, decisions=3)
    attempt = attempt_for(witness, older)

    def answered(size: int):
        return conclude(attempt, Answer(409, f"{size}\n".encode(), SIZE_MEDIA_TYPE))

    superseded = answered(later)
    assert (superseded.outcome, superseded.witness_size) == (SUPERSEDED, later)
    record(attempt, superseded)
    assert not WitnessEvent.objects.exists()
    assert answered(later + 1).outcome == WitnessOutcome.SPLIT_VIEW


def test_a_malformed_409_is_a_refusal_naming_it(db, settings, start_test_witness):
    running = start_test_witness()
    running.witness.misbehave = Misbehaviour(status=409, body=b"lots")
    register(running)
    grow(settings, decisions=3)
    push_latest()
    assert "409 with a malformed size" in WitnessEvent.objects.get().reason


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        (Misbehaviour(bad_signature=True), "does not verify"),
        (Misbehaviour(unknown_key=True), "none of the note's 1 signatures"),
        (Misbehaviour(status=200, body=b"not a signature line\n"), "does not verify"),
    ],
)
def test_a_cosignature_that_does_not_verify_is_refused_and_not_stored(
    db, settings, start_test_witness, caplog, misbehaviour, reason
):
    running = start_test_witness()
    running.witness.misbehave = misbehaviour
    register(running)
    size = grow(settings, decisions=3)
    with caplog.at_level(logging.WARNING, logger="recognition.log.pusher"):
        assert outcomes_by_witness(push_latest()) == {running.witness.name: WitnessOutcome.BAD_COSIGNATURE}
    assert not Cosignature.objects.exists()
    event = WitnessEvent.objects.get()
    assert event.outcome == WitnessOutcome.BAD_COSIGNATURE and reason in event.reason
    assert any("bad_cosignature" in record.message for record in caplog.records)
    assert served_checkpoint()[1] == Checkpoint.objects.get(size=size).note


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_witness_is_stored_and_logged(db, settings, caplog):
    witness_add(
        name="witness.test/gone",
        country="CL",
        url=f"http://127.0.0.1:{closed_port()}",
        vkey=witness_vkey("witness.test/gone"),
    )
    grow(settings, decisions=1)
    with caplog.at_level(logging.WARNING, logger="recognition.log.pusher"):
        push_latest()
    event = WitnessEvent.objects.get()
    assert (event.outcome, event.http_status) == (WitnessOutcome.UNREACHABLE, None)
    assert "ConnectionRefusedError" in event.reason
    assert any("witness.test/gone" in record.message for record in caplog.records)


def test_a_witness_slower_than_the_timeout_is_unreachable(db, settings, start_test_witness):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "WITNESS_TIMEOUT": 0.3}
    running = start_test_witness()
    running.witness.misbehave = Misbehaviour(sleep=5)
    register(running)
    grow(settings, decisions=1)
    started = time.monotonic()
    push_latest()
    assert time.monotonic() - started < 3
    event = WitnessEvent.objects.get()
    assert event.outcome == WitnessOutcome.UNREACHABLE and "timed out" in event.reason


def test_a_slow_witness_holds_neither_the_others_nor_a_verification(db, settings, world, start_test_witness):
    api = Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])
    slow, fast = start_test_witness("witness.test/slow"), start_test_witness("witness.test/fast")
    slow.witness.misbehave = Misbehaviour(sleep=30)
    register(slow), register(fast)
    grow(settings, decisions=1)
    pusher = Pusher()
    try:
        pusher.round()  # starts both pushes and returns at once
        deadline = time.monotonic() + 10
        while not Cosignature.objects.filter(witness__name="witness.test/fast").exists():
            assert time.monotonic() < deadline, "the fast witness waited for the slow one"
            pusher.round()
            time.sleep(0.02)
        assert pusher.busy  # the slow push is still blocked
        started = time.monotonic()
        answer = post_token(api, "not-a-token")
        assert answer["decision"] == "rejected" and time.monotonic() - started < 2
        assert pusher.busy
    finally:
        slow.witness.released.set()
        pusher.close()


def test_a_witness_registered_or_retired_while_running_counts_from_the_next_round(db, settings, start_test_witness):
    running = start_test_witness()
    pusher = Pusher()
    try:
        grow(settings, decisions=1)
        assert pusher.round() == []
        witness = register(running)  # no restart: the same pusher
        outcomes = drain(pusher)
        assert outcomes_by_witness(outcomes) == {running.witness.name: COSIGNED}
        witness_retire(witness=witness)
        grow(settings, decisions=1)
        assert drain(pusher) == [] and running.witness.requests == [0]
    finally:
        pusher.close()


def drain(pusher: Pusher) -> list:
    outcomes = pusher.round()
    while pusher.busy:
        time.sleep(0.01)
        outcomes += pusher.collect()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_one_process_pushes_and_another_takes_over_when_it_goes(postgres_only):
    """Each pusher thread has its own connection, as each web process has:
    the first to ask leads; the others do not until its connection closes."""
    from django.db import connection

    from recognition.log.witnesses import leads

    first_leads, first_closed = threading.Event(), threading.Event()
    answers: dict[str, list[bool]] = {"first": [], "second": []}

    def first() -> None:
        answers["first"] += [leads(), leads()]  # it keeps leading
        first_leads.set()
        first_closed.wait(10)
        connection.close()  # its process stops: the lock goes with the session
        first_closed.clear()

    def second() -> None:
        first_leads.wait(10)
        answers["second"].append(leads())
        first_closed.set()
        while first_closed.is_set():
            time.sleep(0.01)
        answers["second"].append(leads())
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert answers == {"first": [True, True], "second": [False, True]}
