"""witness/server.py: the answers of C2SP tlog-witness add-checkpoint, with
real signed checkpoints and consistency proofs, and no socket. No database
of the registry: the witness's state is its own SQLite file."""

import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

import witness.server
from recognition.log.notes import (
    COSIGNATURE_V1,
    NoteError,
    cosignature_timestamp,
    parse_vkey,
    split_note,
    verify_note,
    vkey,
)
from recognition.log.witnessing import request_body
from tests.support.signed_logs import NOW, SignedLog, forked, make_witness
from witness.server import Witness, trusted_logs


@pytest.fixture
def log() -> SignedLog:
    return SignedLog().grow(5)


@pytest.fixture
def held(tmp_path, log) -> Witness:
    """A witness that has cosigned `log` at size 5."""
    found = make_witness(tmp_path, log)
    assert found.add_checkpoint(log.request(0)).status == 200
    return found


def text_of(answer) -> str:
    assert answer.content_type == "text/plain; charset=utf-8"
    body = answer.body.decode()
    assert body.endswith("\n") and body.count("\n") == 1, body
    return body[:-1]


def test_a_first_checkpoint_is_cosigned_and_the_cosignature_verifies(tmp_path, log):
    found = make_witness(tmp_path, log)
    answer = found.add_checkpoint(log.request(0))
    assert answer.status == 200
    line = answer.body.decode()
    assert line.startswith("\u2014 witness.example/cn ") and line.count("\n") == 1
    verifier = parse_vkey(found.vkey)
    assert verifier.sig_type == COSIGNATURE_V1
    text, verified = verify_note(log.checkpoint() + line, [verifier])
    assert text == log.text() and verified == [verifier]
    assert cosignature_timestamp(split_note(log.checkpoint() + line)[1][-1]) == NOW
    assert (found.state.latest(log.origin).size, found.state.latest(log.origin).root) == (5, log.root())


def test_a_checkpoint_that_extends_the_last_one_is_cosigned(held, log):
    log.grow(300)
    answer = held.add_checkpoint(log.request(5))
    assert answer.status == 200
    verify_note(log.checkpoint() + answer.body.decode(), [parse_vkey(held.vkey)])
    assert held.state.latest(log.origin).size == 305


def test_the_same_checkpoint_is_cosigned_again(held, log):
    assert held.add_checkpoint(log.request(5)).status == 200
    assert held.state.latest(log.origin).size == 5


def test_a_malformed_request_is_400_saying_why(held):
    answer = held.add_checkpoint(b"old 0\nnot a checkpoint")
    assert answer.status == 400
    assert text_of(answer) == (
        "malformed request: the request has no empty line between the old size and proof and the checkpoint"
    )


def test_a_note_that_is_not_a_checkpoint_is_400(held, log):
    note = log.checkpoint().replace(f"\n{log.size}\n", "\nfive\n", 1)
    answer = held.add_checkpoint(b"old 0\n\n" + note.encode())
    assert answer.status == 400
    assert "the tree size 'five' is not a decimal" in text_of(answer)


def test_an_old_size_larger_than_the_checkpoint_is_400(held, log):
    answer = held.add_checkpoint(request_body(6, [], log.checkpoint()))
    assert answer.status == 400
    assert text_of(answer) == "the old size 6 is larger than the checkpoint's size 5"


def test_an_unknown_origin_is_404(held):
    other = SignedLog("other.example/log").grow(3)
    answer = held.add_checkpoint(other.request(0))
    assert answer.status == 404
    assert text_of(answer) == "this witness does not witness the log 'other.example/log'"


def test_a_checkpoint_signed_by_another_key_of_the_same_name_is_403(held, log):
    impostor = SignedLog(log.origin).grow(6)
    answer = held.add_checkpoint(impostor.request(5))
    assert answer.status == 403
    assert text_of(answer).startswith(f"no signature by a key of {log.origin} verifies: none of the note's 1")
    assert held.state.latest(log.origin).size == 5
    assert held.state.kept() == []  # an unsigned request is no evidence


def test_a_checkpoint_whose_signature_does_not_verify_is_403(held, log):
    log.grow(1)
    body = log.request(5).replace(f"\n{log.size}\n".encode(), b"\n7\n", 1)
    answer = held.add_checkpoint(body)
    assert answer.status == 403
    assert "does not verify" in text_of(answer)


def test_an_old_size_other_than_the_one_cosigned_is_409_with_that_size(held, log):
    log.grow(4)
    for old in (0, 3, 7):
        answer = held.add_checkpoint(request_body(old, log.proof(old), log.checkpoint()))
        assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"5\n")
    assert held.add_checkpoint(log.request(5)).status == 200


def test_a_smaller_checkpoint_than_the_one_cosigned_is_409(held, log):
    answer = held.add_checkpoint(log.request(0, 3))
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"5\n")
    assert held.state.latest(log.origin).size == 5


def test_another_root_at_the_size_cosigned_is_409_and_kept(held, log):
    fork = forked(log, 3, 2)
    body = request_body(5, [], fork.checkpoint())
    answer = held.add_checkpoint(body)
    assert answer.status == 409
    assert text_of(answer) == "checkpoint of size 5 has another root than the one this witness cosigned"
    assert [(kept.origin, kept.status, kept.body) for kept in held.state.kept()] == [(log.origin, 409, body)]
    assert held.state.latest(log.origin).root == log.root()


def test_a_checkpoint_inconsistent_with_the_one_cosigned_is_422_and_kept(held, log):
    fork = forked(log, 3, 9)
    body = fork.request(5)
    answer = held.add_checkpoint(body)
    assert answer.status == 422
    assert text_of(answer) == (
        "checkpoint of size 12 is not consistent with the checkpoint of size 5 this witness cosigned"
    )
    kept = held.state.kept()
    assert [(row.status, row.reason, row.body) for row in kept] == [(422, text_of(answer), body)]
    assert held.state.latest(log.origin).size == 5


def test_a_proof_at_an_unchanged_size_is_422(held, log):
    body = request_body(5, [bytes(32)], log.checkpoint())
    answer = held.add_checkpoint(body)
    assert answer.status == 422
    assert text_of(answer) == "the consistency proof from size 5 to itself must be empty"


def test_a_log_key_rotation_is_followed(tmp_path, log):
    new_key = Ed25519PrivateKey.generate()
    rotated = SignedLog(log.origin, new_key)
    found = make_witness(tmp_path, vkeys=[log.vkey, rotated.vkey])
    assert list(found.logs) == [log.origin] and len(found.logs[log.origin]) == 2
    assert found.add_checkpoint(log.request(0)).status == 200
    rotated.tiles, rotated.size = dict(log.tiles), log.size
    rotated.grow(2)
    assert found.add_checkpoint(rotated.request(5)).status == 200  # the new key only
    rotated.grow(1)
    both = request_body(7, rotated.proof(7), rotated.checkpoint(None, log.key))
    assert found.add_checkpoint(both).status == 200
    stranger = SignedLog(log.origin)
    stranger.tiles, stranger.size = dict(rotated.tiles), rotated.size
    assert found.add_checkpoint(stranger.request(8)).status == 403


def test_two_logs_are_held_apart(tmp_path, log):
    other = SignedLog("other.example/log").grow(9)
    found = make_witness(tmp_path, log, other)
    assert found.add_checkpoint(log.request(0)).status == 200
    assert found.add_checkpoint(other.request(0)).status == 200
    assert (found.state.latest(log.origin).size, found.state.latest(other.origin).size) == (5, 9)


def test_a_log_key_of_the_cosignature_type_is_not_trusted(log):
    witness_type = vkey(log.origin, log.key.public_key().public_bytes_raw(), COSIGNATURE_V1)
    with pytest.raises(NoteError, match=r"is not an Ed25519 \(type 0x01\) key"):
        trusted_logs([witness_type])


def concurrently(found: Witness, bodies: list[bytes]) -> list:
    """The answers to `bodies`, sent at once from one thread each."""
    answers: list = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def send(index: int) -> None:
        barrier.wait()
        answers[index] = found.add_checkpoint(bodies[index])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_requests_never_roll_the_state_back(tmp_path, log, monkeypatch):
    """tlog-witness's race: requests from the same old size, checked at the
    same time; the proof check is slowed down to widen the window between
    reading the stored size and writing the new one."""
    found = make_witness(tmp_path, log)
    assert found.add_checkpoint(log.request(0)).status == 200
    real = witness.server.verify_consistency

    def slow(*args):
        time.sleep(0.02)
        return real(*args)

    monkeypatch.setattr(witness.server, "verify_consistency", slow)
    full = SignedLog(log.origin, log.key).grow(5 + 4 * 6)
    for round_ in range(6):
        held_size = found.state.latest(log.origin).size
        sizes = [held_size + step for step in (1, 2, 3, 4)]
        bodies = [request_body(held_size, full.proof(held_size, size), full.checkpoint(size)) for size in sizes]
        answers = concurrently(found, bodies)
        won = [size for size, answer in zip(sizes, answers, strict=True) if answer.status == 200]
        assert len(won) == 1, (round_, [answer.status for answer in answers])
        assert found.state.latest(log.origin).size == won[0] > held_size
        assert sorted(answer.status for answer in answers) == [200, 409, 409, 409]


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300))
def test_any_bytes_get_an_answer_never_an_exception(tmp_path_factory, body):
    log = SignedLog().grow(2)
    found = make_witness(tmp_path_factory.mktemp("state"), log)
    answer = found.add_checkpoint(body)
    assert answer.status == 400
    assert answer.body.startswith(b"malformed request: ")
