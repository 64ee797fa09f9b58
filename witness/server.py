"""The witness (DESIGN §11; C2SP tlog-witness §add-checkpoint): it cosigns a
log's checkpoint only when it extends the last checkpoint it cosigned for
that log, and answers with the specification's status codes. Independent of
HTTP (witness/serving.py carries it) so that every answer can be checked with
no socket.

The order of the checks is the specification's: the form of the request
(400), the origin (404), the log's signature (403), then, atomically with
the update of the state, the old size (409, with the size it holds), the
root of an unchanged size (409) and the consistency proof (422). Only a
request the log itself signed can be kept as evidence, so that nobody else
can fill the state file.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recognition.log.notes import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    NoteError,
    Verifier,
    cosignature_line,
    key_id,
    parse_checkpoint,
    parse_vkey,
    verify_note,
    vkey,
)
from recognition.log.tree import verify_consistency
from recognition.log.witnessing import SIZE_MEDIA_TYPE, AddCheckpoint, parse_request, size_body
from witness.state import Cosigned, Refusal, State

logger = logging.getLogger("witness")

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def trusted_logs(vkeys: Iterable[str]) -> dict[str, list[Verifier]]:
    """The log keys a witness trusts, by origin (a log's origin is its key's
    name; several keys of one name are a log's keys across a rotation).
    Only Ed25519 signed-note keys (type 0x01) sign checkpoints."""
    logs: dict[str, list[Verifier]] = {}
    for text in vkeys:
        verifier = parse_vkey(text)
        if verifier.sig_type != ED25519:
            raise NoteError(f"the log key {verifier.name}+{verifier.key_id.hex()} is not an Ed25519 (type 0x01) key")
        known = logs.setdefault(verifier.name, [])
        if verifier not in known:
            known.append(verifier)
    return logs


def _refused(status: int, reason: str) -> Answer:
    return Answer(status, TEXT, f"{reason}\n".encode())


class Witness:
    """A witness key and name, the logs it trusts and its state."""

    def __init__(
        self,
        *,
        name: str,
        private_key: Ed25519PrivateKey,
        logs: dict[str, list[Verifier]],
        state: State,
        clock: Callable[[], float] = time.time,
    ) -> None:
        public = private_key.public_key().public_bytes_raw()
        self.vkey = vkey(name, public, COSIGNATURE_V1)  # checks the name
        self.key_id = key_id(name, COSIGNATURE_V1, public).hex()
        self.name, self.private_key, self.logs, self.state, self.clock = name, private_key, logs, state, clock

    def add_checkpoint(self, body: bytes) -> Answer:
        """The answer to one add-checkpoint request body."""
        try:
            request = parse_request(body)
            checkpoint = parse_checkpoint(_note_text(request.note))
        except NoteError as exc:
            return self._refuse(400, f"malformed request: {exc}", origin=None)
        if request.old_size > checkpoint.size:
            reason = f"the old size {request.old_size} is larger than the checkpoint's size {checkpoint.size}"
            return self._refuse(400, reason, checkpoint.origin)
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            return self._refuse(404, f"this witness does not witness the log {checkpoint.origin[:200]!r}", None)
        try:
            verify_note(request.note, keys)
        except NoteError as exc:
            return self._refuse(403, f"no signature by a key of {checkpoint.origin} verifies: {exc}", checkpoint.origin)
        refusal = self.state.advance(
            checkpoint.origin,
            lambda latest: _judge(request, checkpoint, latest),
            size=checkpoint.size,
            root=checkpoint.root,
            request=body,
        )
        if refusal is not None:
            if refusal.size is not None:
                logger.warning("refused %s (409): %s", checkpoint.origin, refusal.reason)
                return Answer(409, SIZE_MEDIA_TYPE, size_body(refusal.size))
            return self._refuse(refusal.status, refusal.reason, checkpoint.origin)
        text = _note_text(request.note)
        line = cosignature_line(text, self.name, self.private_key, timestamp=int(self.clock()))
        logger.info("cosigned %s at size %d", checkpoint.origin, checkpoint.size)
        return Answer(200, TEXT, line.encode())

    def _refuse(self, status: int, reason: str, origin: str | None) -> Answer:
        logger.warning("refused %s (%d): %s", origin or "a request", status, reason)
        return _refused(status, reason)


def _note_text(note: str) -> str:
    return note[: note.rfind("\n\n") + 1]


def _judge(request: AddCheckpoint, checkpoint: Checkpoint, latest: Cosigned) -> Refusal | None:
    """tlog-witness: the old size is the size last cosigned; an unchanged
    size keeps its root; a larger one comes with a proof from the old root."""
    if request.old_size != latest.size:
        if checkpoint.size < latest.size:
            reason = f"checkpoint of size {checkpoint.size} is older than the checkpoint of size {latest.size}"
        else:
            reason = f"the old size {request.old_size} is not the size {latest.size}"
        return Refusal(409, f"{reason} this witness cosigned", size=latest.size)
    if checkpoint.size == latest.size:
        if checkpoint.root != latest.root:
            reason = f"checkpoint of size {checkpoint.size} has another root than the one this witness cosigned"
            return Refusal(409, reason, evidence=True)
        if request.proof:
            return Refusal(422, f"the consistency proof from size {latest.size} to itself must be empty")
        return None
    if latest.size and not verify_consistency(
        latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
    ):
        reason = (
            f"checkpoint of size {checkpoint.size} is not consistent with the checkpoint of size "
            f"{latest.size} this witness cosigned"
        )
        return Refusal(422, reason, evidence=True)
    return None
