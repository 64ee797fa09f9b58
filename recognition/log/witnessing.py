"""The messages of C2SP tlog-witness `add-checkpoint`, both ways: what the
registry sends a witness and what a witness answers. Pure Python, shared by
the registry's pusher and the witness a partner runs (`run_witness`), so
that both read the protocol from one place.

Request body: "old <size>\\n", at most 63 lines of a base64 consistency
proof hash, an empty line, then the signed checkpoint note. A 409 answer
is "<size>\\n" with Content-Type text/x.tlog.size; a 200 answer is one or
more cosignature lines. Every refusal is a NoteError naming what is wrong.
"""

import base64
import binascii
import re
from dataclasses import dataclass

from recognition.log.notes import MAX_NOTE_BYTES, MAX_TREE_SIZE, NoteError, decode_utf8, split_note

PATH = "/add-checkpoint"
SIZE_MEDIA_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63  # tlog-witness: a client MUST NOT send more
_HASH_BYTES = 32
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII decimal, no leading zeros
# The request's proof lines and old size line, on top of the note itself.
MAX_REQUEST_BYTES = MAX_NOTE_BYTES + (MAX_PROOF_LINES + 1) * 64


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request: the size the client believes the
    witness holds, the consistency proof from it, and the checkpoint note
    (signatures unverified)."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _size(text: str, what: str) -> int:
    if not _SIZE.fullmatch(text) or int(text) > MAX_TREE_SIZE:
        raise NoteError(f"{what} {text[:40]!r} is not a decimal up to 2^63 - 1 without leading zeros")
    return int(text)


def request_body(old_size: int, proof: list[bytes] | tuple[bytes, ...], note: str) -> bytes:
    """The body of an add-checkpoint request."""
    if type(old_size) is not int or not 0 <= old_size <= MAX_TREE_SIZE:
        raise NoteError(f"the old size is a whole number from 0 to 2^63 - 1, not {old_size!r}")
    if len(proof) > MAX_PROOF_LINES:
        raise NoteError(f"a consistency proof sent to a witness has at most {MAX_PROOF_LINES} hashes")
    if any(not isinstance(node, bytes) or len(node) != _HASH_BYTES for node in proof):
        raise NoteError("every consistency proof hash is 32 bytes")
    split_note(note)  # a signed note, whole
    lines = [f"old {old_size}"] + [base64.b64encode(node).decode() for node in proof]
    return ("\n".join(lines) + "\n\n" + note).encode()


def parse_request(body: bytes) -> AddCheckpoint:
    """An add-checkpoint request body, checked for form (tlog-witness
    §add-checkpoint); a malformed one is a NoteError, answered 400."""
    if not isinstance(body, bytes):
        raise NoteError(f"a request body is bytes, not {type(body).__name__}")
    text = decode_utf8(body, MAX_REQUEST_BYTES, "the request")
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise NoteError("the request has no empty line between the old size and proof and the checkpoint")
    first, *proof_lines = head.split("\n")
    if not first.startswith("old "):
        raise NoteError("the request's first line is not 'old <size>'")
    old_size = _size(first[4:], "the old size")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise NoteError(f"the request has {len(proof_lines)} proof lines, over the limit of {MAX_PROOF_LINES}")
    proof = []
    for number, line in enumerate(proof_lines, 2):
        try:
            node = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise NoteError(f"proof line {number} is not base64") from None
        if len(node) != _HASH_BYTES or base64.b64encode(node).decode() != line:
            raise NoteError(f"proof line {number} is not the canonical base64 of a 32-byte hash")
        proof.append(node)
    if old_size == 0 and proof:
        raise NoteError("the consistency proof must be empty when the old size is 0")
    split_note(note)
    return AddCheckpoint(old_size, tuple(proof), note)


def size_body(size: int) -> bytes:
    """The body of a 409: the size of the latest checkpoint the witness cosigned."""
    return f"{size}\n".encode()


def parse_size_body(body: bytes) -> int:
    """The size a witness's 409 states."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise NoteError("the witness's size answer is not ASCII") from None
    if not text.endswith("\n"):
        raise NoteError("the witness's size answer does not end in a newline")
    return _size(text[:-1], "the witness's size")
