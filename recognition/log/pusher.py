"""Sending checkpoints to witnesses (DESIGN §11, C2SP tlog-witness
add-checkpoint) and keeping what they answer.

Each push is `old <size>`, the consistency proof from that size, an empty
line and the checkpoint (recognition/log/witnessing.py). The old size is the
largest one the witness cosigned as this database knows it; a 409 tells the
witness's own size, and the push is retried at once from it (a few times,
as other web processes may move it meanwhile). Every
cosignature is verified (tlog-cosignature v1) with the witness's key before
it is stored; every push that ends without one is a WitnessEvent and a log
line naming the reason. A witness that says it cosigned a larger tree than
this log has, or that our tree does not extend what it cosigned (422, or a
409 at our own size), has seen another history: a split view, logged at
ERROR.

Threads: the HTTP requests run in a small pool, one at a time per witness,
so that a slow witness holds only itself; they touch no database. Proofs,
verification and storage run in the thread that calls `Pusher.round()`
(the pusher's own background thread, never a request's nor the
integrator's), so the pool needs no database connections. Duplicate pushers
(several web processes) are harmless: a cosignature is unique per checkpoint
and witness, and a second one is dropped; the cost is extra requests to the
witnesses, which the spec's 409 answers cheaply.
"""

import http.client
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from recognition.log import tree
from recognition.log.notes import NoteError, Verifier, cosignature_timestamp, parse_vkey, split_note, verify_note
from recognition.log.tiles import TileCache
from recognition.log.witnessing import PATH, SIZE_MEDIA_TYPE, parse_size_body, request_body
from recognition.models import Checkpoint, Cosignature, Witness, WitnessEvent, WitnessOutcome

logger = logging.getLogger(__name__)

COSIGNED = "cosigned"
# The witness already cosigned a later checkpoint of this log (pushed by
# another process): nothing to keep, nothing wrong.
SUPERSEDED = "superseded"
MAX_RETRIES = 3
MAX_ANSWER_BYTES = 64 * 1024  # a few cosignature lines, or a size
# A witness that gave no cosignature for the latest checkpoint is asked
# again when the next checkpoint comes, or after this long if none comes.
RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Attempt:
    """One add-checkpoint request, with what is needed to judge its answer."""

    witness_id: int
    name: str
    url: str
    verifier: Verifier
    checkpoint_id: int
    size: int
    note: str
    old_size: int
    retries: int = 0

    def body(self) -> bytes:
        proof = tree.consistency_proof(self.old_size, self.size, TileCache().read) if self.old_size else []
        return request_body(self.old_size, proof, self.note)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all
    body: bytes = b""
    content_type: str = ""
    error: str = ""


@dataclass(frozen=True)
class Outcome:
    witness: str
    size: int
    outcome: str  # COSIGNED or a WitnessOutcome
    http_status: int | None = None
    witness_size: int | None = None
    reason: str = ""
    line: str = ""  # the cosignature line, when cosigned
    timestamp: int | None = None  # and its timestamp


def cosigned_size(witness_id: int) -> int:
    """The largest checkpoint size this witness cosigned, as the database knows it (0: none)."""
    # Down the checkpoints' size index, not an aggregate over every cosignature the witness ever gave.
    newest = Cosignature.objects.filter(witness_id=witness_id).order_by("-checkpoint__size")
    return newest.values_list("checkpoint__size", flat=True).first() or 0


def attempt_for(witness: Witness, checkpoint: Checkpoint) -> Attempt:
    return Attempt(
        witness_id=witness.pk,
        name=witness.name,
        url=witness.url,
        verifier=parse_vkey(witness.vkey),
        checkpoint_id=checkpoint.pk,
        size=checkpoint.size,
        note=checkpoint.note,
        old_size=min(cosigned_size(witness.pk), checkpoint.size),
    )


def send(url: str, body: bytes, timeout: float) -> Answer:
    """POST <url>/add-checkpoint; any failure to get an answer is an Answer without status."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", parts.path.rstrip("/") + PATH, body, {"Content-Type": "text/plain; charset=utf-8"})
        response = connection.getresponse()
        data = response.read(MAX_ANSWER_BYTES + 1)
        return Answer(response.status, data, response.getheader("Content-Type", ""))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()


def _shown(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace")
    return " ".join(text.split()) or "(empty body)"


def _refused(attempt: Attempt, outcome: str, reason: str, **fields: int | None) -> Outcome:
    return Outcome(attempt.name, attempt.size, outcome, reason=reason, **fields)


def _cosignature(attempt: Attempt, answer: Answer) -> tuple[str, int] | Outcome:
    """The witness's verified cosignature line and its timestamp; lines of
    other keys are ignored (tlog-witness: the client MUST ignore them)."""
    if len(answer.body) > MAX_ANSWER_BYTES:
        return _refused(attempt, WitnessOutcome.BAD_COSIGNATURE, "the answer is too large", http_status=200)
    text = split_note(attempt.note)[0]
    verifier = attempt.verifier
    try:
        lines = answer.body.decode("utf-8")
        verify_note(text + "\n" + lines, [verifier])
        for line in lines.splitlines():
            signature = split_note(text + "\n" + line + "\n")[1][0]
            if (signature.name, signature.key_id) == (verifier.name, verifier.key_id):
                return line + "\n", cosignature_timestamp(signature)
    except (UnicodeDecodeError, NoteError) as exc:
        return _refused(attempt, WitnessOutcome.BAD_COSIGNATURE, f"its answer does not verify: {exc}", http_status=200)
    return _refused(attempt, WitnessOutcome.BAD_COSIGNATURE, "no cosignature by its key", http_status=200)


def _conflict(attempt: Attempt, answer: Answer) -> Attempt | Outcome:
    try:
        theirs = parse_size_body(answer.body)
    except NoteError as exc:
        return _refused(attempt, WitnessOutcome.REFUSED, f"409 with a malformed size: {exc}", http_status=409)
    if not answer.content_type.startswith(SIZE_MEDIA_TYPE):
        logger.info("witness %s answered 409 with Content-Type %r", attempt.name, answer.content_type)
    fields = {"http_status": 409, "witness_size": theirs}
    if theirs > attempt.size:
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0
        if theirs <= latest:
            # Another web process pushed a later checkpoint first. Were that
            # tree not ours, the push of the latest checkpoint says so (422).
            return _refused(attempt, SUPERSEDED, f"it cosigned the later size {theirs} already", **fields)
        reason = (
            f"it cosigned size {theirs}, beyond this log's size {latest}: "
            "the log was rolled back after it cosigned, or it was shown another history"
        )
        return _refused(attempt, WitnessOutcome.SPLIT_VIEW, reason, **fields)
    if theirs == attempt.old_size == attempt.size:
        reason = f"it cosigned another tree of size {theirs} (409 on the same size: the root hashes differ)"
        return _refused(attempt, WitnessOutcome.SPLIT_VIEW, reason, **fields)
    if attempt.retries < MAX_RETRIES:  # its size may move meanwhile, pushed by another process
        return replace(attempt, old_size=theirs, retries=attempt.retries + 1)
    reason = f"409 again after {MAX_RETRIES} retries, the last from size {attempt.old_size}"
    return _refused(attempt, WitnessOutcome.REFUSED, reason, **fields)


def conclude(attempt: Attempt, answer: Answer) -> Attempt | Outcome:
    """What an answer means: a retry from the witness's size (the first 409),
    or an outcome."""
    if answer.status is None:
        return _refused(attempt, WitnessOutcome.UNREACHABLE, answer.error)
    if answer.status == 200:
        found = _cosignature(attempt, answer)
        if isinstance(found, Outcome):
            return found
        return Outcome(attempt.name, attempt.size, COSIGNED, 200, line=found[0], timestamp=found[1])
    if answer.status == 409:
        return _conflict(attempt, answer)
    if answer.status == 422:
        reason = (
            f"the consistency proof from size {attempt.old_size} does not verify against what it cosigned "
            f"(it holds another tree of that size): {_shown(answer.body)}"
        )
        return _refused(attempt, WitnessOutcome.SPLIT_VIEW, reason, http_status=422, witness_size=attempt.old_size)
    reason = f"HTTP {answer.status}: {_shown(answer.body)}"
    return _refused(attempt, WitnessOutcome.REFUSED, reason, http_status=answer.status)


def record(attempt: Attempt, outcome: Outcome) -> Outcome:
    """Store a cosignature (once: a duplicate from another pusher is dropped)
    or the event of a push that got none, and log the latter."""
    now = timezone.now()
    if outcome.outcome == COSIGNED:
        try:
            with transaction.atomic():
                Cosignature.objects.create(
                    checkpoint_id=attempt.checkpoint_id,
                    witness_id=attempt.witness_id,
                    line=outcome.line,
                    timestamp=outcome.timestamp,
                    created_at=now,
                )
        except IntegrityError:
            logger.info("witness %s cosigned size %d again; kept the first", attempt.name, attempt.size)
        return outcome
    if outcome.outcome == SUPERSEDED:
        logger.info("witness %s: size %d superseded: %s", attempt.name, attempt.size, outcome.reason)
        return outcome
    WitnessEvent.objects.create(
        witness_id=attempt.witness_id,
        size=attempt.size,
        outcome=outcome.outcome,
        http_status=outcome.http_status,
        witness_size=outcome.witness_size,
        reason=outcome.reason,
        created_at=now,
    )
    level = logging.ERROR if outcome.outcome == WitnessOutcome.SPLIT_VIEW else logging.WARNING
    logger.log(
        level,
        "witness %s gave no cosignature for size %d (%s): %s",
        attempt.name,
        attempt.size,
        outcome.outcome,
        outcome.reason,
    )
    return outcome


class Pusher:
    """Pushes the latest checkpoint to every active witness that has not
    cosigned it; `round()` starts what is due and concludes what answered.
    The witnesses are read from the database at every round: one registered
    or retired counts from the next round on."""

    def __init__(self, *, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="witness-push")
        self._in_flight: dict[int, tuple[Attempt, Future]] = {}
        self._asked: dict[int, tuple[int, float]] = {}  # witness -> (size, when)

    def _submit(self, attempt: Attempt) -> None:
        timeout = settings.AUDIT_LOG["WITNESS_TIMEOUT"]
        future = self._pool.submit(send, attempt.url, attempt.body(), timeout)
        self._in_flight[attempt.witness_id] = (attempt, future)

    def collect(self) -> list[Outcome]:
        outcomes = []
        for witness_id, (attempt, future) in list(self._in_flight.items()):
            if not future.done():
                continue
            del self._in_flight[witness_id]
            result = conclude(attempt, future.result())
            if isinstance(result, Attempt):
                self._submit(result)
            else:
                outcomes.append(record(attempt, result))
        return outcomes

    def _due(self, witness: Witness, checkpoint: Checkpoint) -> bool:
        if witness.pk in self._in_flight:
            return False
        size, when = self._asked.get(witness.pk, (-1, 0.0))
        if size == checkpoint.size and time.monotonic() - when < RETRY_SECONDS:
            return False
        return not Cosignature.objects.filter(witness=witness, checkpoint=checkpoint).exists()

    def round(self) -> list[Outcome]:
        outcomes = self.collect()
        checkpoint = Checkpoint.objects.order_by("-size").first()
        if checkpoint is None:
            return outcomes
        for witness in Witness.objects.active():
            if self._due(witness, checkpoint):
                self._asked[witness.pk] = (checkpoint.size, time.monotonic())
                self._submit(attempt_for(witness, checkpoint))
        return outcomes

    @property
    def busy(self) -> bool:
        return bool(self._in_flight)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def push_latest(*, poll: float = 0.01) -> list[Outcome]:
    """Push the latest checkpoint to every active witness that has not
    cosigned it and wait for every answer (or timeout); the outcomes."""
    pusher = Pusher()
    try:
        outcomes = pusher.round()
        while pusher.busy:
            time.sleep(poll)
            outcomes += pusher.collect()
        return outcomes
    finally:
        pusher.close()
