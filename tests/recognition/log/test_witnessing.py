"""recognition/log/witnessing.py: the C2SP tlog-witness add-checkpoint
messages, both ways. The specification's own example request parses to what
it says; every malformed form is refused naming what is wrong. Pure: no
database."""

import base64
import re
from pathlib import Path

import pytest

from recognition.log.notes import MAX_TREE_SIZE, NoteError, split_note
from recognition.log.witnessing import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    PATH,
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    parse_request,
    parse_size_body,
    request_body,
    size_body,
)
from tests.support.signed_logs import SignedLog

C2SP = Path(__file__).resolve().parents[2] / "data" / "c2sp"
HASH = bytes(range(32))


@pytest.fixture(scope="module")
def log() -> SignedLog:
    return SignedLog().grow(13)


def test_the_path_and_media_type_are_the_specifications():
    assert PATH == "/add-checkpoint"
    assert SIZE_MEDIA_TYPE == "text/x.tlog.size"


def test_the_specifications_example_request_parses_to_what_it_says():
    body = (C2SP / "tlog-witness-request.txt").read_bytes()
    request = parse_request(body)
    assert request.old_size == 20852014
    assert [base64.b64encode(node).decode() for node in request.proof] == [
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
        "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
        "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
    ]
    text, signatures = split_note(request.note)
    assert text == "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert [signature.name for signature in signatures] == ["example.com/behind-the-sofa"] * 2
    # Our writer gives the example back byte for byte.
    assert request_body(request.old_size, request.proof, request.note) == body


@pytest.mark.parametrize("old", [0, 1, 7, 12, 13])
def test_a_request_round_trips(log, old):
    body = log.request(old)
    assert parse_request(body) == AddCheckpoint(old, tuple(log.proof(old)), log.checkpoint())
    assert body.startswith(f"old {old}\n".encode())


def test_a_request_from_size_zero_has_no_proof_lines(log):
    assert log.request(0) == b"old 0\n\n" + log.checkpoint().encode()


def test_the_largest_proof_a_client_may_send_is_accepted(log):
    proof = [HASH] * MAX_PROOF_LINES
    assert parse_request(request_body(5, proof, log.checkpoint())).proof == tuple(proof)


def good(log: SignedLog) -> str:
    return log.request(5).decode()


MALFORMED = {
    "no empty line": (lambda body: body[: body.index("\n\n") + 1], "no empty line"),
    "empty line missing after the proof": (
        lambda body: body.replace("\n\n", "\n", 1),
        "proof line 7 is not base64",  # the origin line, read as a proof line
    ),
    "no old line": (lambda body: body.replace("old 5\n", "", 1), "is not 'old <size>'"),
    "OLD": (lambda body: body.replace("old 5", "OLD 5", 1), "is not 'old <size>'"),
    "two spaces": (lambda body: body.replace("old 5", "old  5", 1), "the old size"),
    "leading zero": (lambda body: body.replace("old 5", "old 05", 1), "without leading zeros"),
    "negative": (lambda body: body.replace("old 5", "old -5", 1), "the old size"),
    "not a number": (lambda body: body.replace("old 5", "old five", 1), "the old size"),
    "non-ASCII digit": (lambda body: body.replace("old 5", "old \u0665", 1), "the old size"),
    "over 2^63 - 1": (lambda body: body.replace("old 5", f"old {MAX_TREE_SIZE + 1}", 1), "up to 2^63 - 1"),
    "carriage return": (lambda body: body.replace("old 5\n", "old 5\r\n", 1), "the old size"),
    "proof not base64": (lambda body: body.replace("\n", "\n!!!!\n", 1), "proof line 2 is not base64"),
    "proof of 31 bytes": (
        lambda body: body.replace("\n", f"\n{base64.b64encode(HASH[:31]).decode()}\n", 1),
        "proof line 2 is not the canonical base64 of a 32-byte hash",
    ),
    "proof unpadded": (
        lambda body: body.replace("\n", f"\n{base64.b64encode(HASH).decode().rstrip('=')}\n", 1),
        "proof line 2 is not base64",
    ),
    "proof with stray bits": (
        lambda body: body.replace("\n", f"\n{base64.b64encode(HASH).decode()[:-2]}B=\n", 1),
        "proof line 2 is not the canonical base64",
    ),
    "proof line empty": (lambda body: body.replace("\n", "\n \n", 1), "proof line 2"),
    "no signature": (lambda body: body[: body.rindex("\n\n") + 1], "no blank line before its signatures"),
    "signature without em dash": (lambda body: body.replace("\u2014 ", "- "), "does not start with an em dash"),
    "no final newline": (lambda body: body[:-1], "does not end in a newline"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_request_is_refused_saying_why(log, case):
    change, message = MALFORMED[case]
    with pytest.raises(NoteError, match=re.escape(message)):
        parse_request(change(good(log)).encode())


def test_more_proof_lines_than_a_client_may_send_are_refused(log):
    body = request_body(5, [HASH] * MAX_PROOF_LINES, log.checkpoint()).replace(b"\n\n", b"\n" + b"A" * 44 + b"\n\n", 1)
    with pytest.raises(NoteError, match=f"64 proof lines, over the limit of {MAX_PROOF_LINES}"):
        parse_request(body)


def test_a_proof_from_size_zero_is_refused(log):
    body = log.request(5).replace(b"old 5", b"old 0", 1)
    with pytest.raises(NoteError, match="must be empty when the old size is 0"):
        parse_request(body)


def test_a_request_that_is_not_utf8_or_too_large_or_not_bytes_is_refused(log):
    with pytest.raises(NoteError, match="not UTF-8"):
        parse_request(b"old 0\n\n\xff\n")
    with pytest.raises(NoteError, match="over the limit"):
        parse_request(b"old 0\n\n" + b"a" * MAX_REQUEST_BYTES)
    with pytest.raises(NoteError, match="bytes, not str"):
        parse_request(good(log))


@pytest.mark.parametrize(
    ("old", "proof", "message"),
    [
        (-1, [], "whole number"),
        (True, [], "whole number"),
        (MAX_TREE_SIZE + 1, [], "whole number"),
        (5, [HASH] * (MAX_PROOF_LINES + 1), "at most 63 hashes"),
        (5, [HASH[:31]], "32 bytes"),
        (5, ["not bytes"], "32 bytes"),
    ],
)
def test_a_request_that_cannot_be_written_is_refused(log, old, proof, message):
    with pytest.raises(NoteError, match=message):
        request_body(old, proof, log.checkpoint())


def test_a_request_body_needs_a_signed_note(log):
    with pytest.raises(NoteError, match="no blank line"):
        request_body(0, [], log.text())


@pytest.mark.parametrize("size", [0, 1, 20852163, MAX_TREE_SIZE])
def test_a_size_answer_round_trips(size):
    assert size_body(size) == f"{size}\n".encode()
    assert parse_size_body(size_body(size)) == size


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"12", "does not end in a newline"),
        (b"012\n", "leading zeros"),
        (b"-1\n", "the witness's size"),
        (b"12\n\n", "the witness's size"),
        (b"\xc2\xb2\n", "not ASCII"),
        (f"{MAX_TREE_SIZE + 1}\n".encode(), "up to 2^63 - 1"),
        (b"\n", "the witness's size"),
    ],
)
def test_a_malformed_size_answer_is_refused(body, message):
    with pytest.raises(NoteError, match=re.escape(message)):
        parse_size_body(body)
