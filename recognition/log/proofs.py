"""What the log proves to anyone who asks (DESIGN §6): the latest checkpoint,
consistency between two checkpointed sizes, an entry's inclusion in a
checkpointed tree, and the C2SP tiles of hashes and of entries. Each proof
reads O(log n) tiles (recognition/log/tiles.py).

Nothing beyond the latest signed checkpoint is shown: its size bounds every
proof and every tile, so what is served is always what a signature covers.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max

from recognition.log import tree
from recognition.log.integrator import integrate
from recognition.log.tiles import TileCache
from recognition.models import Checkpoint, Cosignature, LogEntry

ENTRIES = "entries"


class LogRefusal(Exception):
    """A question the log cannot answer as asked: `status` and `code` are the
    API's, `detail` names the problem."""

    def __init__(self, status: int, code: str, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.retry_after = status, code, detail, retry_after


def latest_checkpoint() -> Checkpoint:
    """The latest signed checkpoint. A log that has signed none yet (a new
    registry whose integrator has not run) integrates and signs one now."""
    checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        integrate()
        checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:  # another integrator is signing it right now
        raise LogRefusal(503, "no_checkpoint", "the log has signed no checkpoint yet; try again in a few seconds")
    return checkpoint


# How many of the newest cosignatures are looked at first: the served
# checkpoint is nearly always among the last few checkpoints.
_RECENT_COSIGNATURES = 256


def _cosigned_checkpoint(quorum: int) -> Checkpoint:
    """The latest checkpoint cosigned by at least `quorum` distinct active
    witnesses. The newest cosignatures are read first (an index walk down
    the checkpoints' sizes, a bounded read whatever the log's age); only
    when none of their checkpoints reached the quorum are all counted."""
    active = Cosignature.objects.filter(witness__retired_at__isnull=True)
    recent = active.order_by("-checkpoint__size").values_list("checkpoint", "witness")[:_RECENT_COSIGNATURES]
    witnesses: dict[int, set[int]] = {}
    for checkpoint, witness in recent:  # newest checkpoint first
        witnesses.setdefault(checkpoint, set()).add(witness)
    reached = next((checkpoint for checkpoint, seen in witnesses.items() if len(seen) >= quorum), None)
    if reached is None and len(recent) == _RECENT_COSIGNATURES:
        reached = (
            active.values("checkpoint")
            .annotate(witnesses=Count("witness", distinct=True))
            .filter(witnesses__gte=quorum)
            .order_by("-checkpoint__size")
            .values_list("checkpoint", flat=True)
            .first()
        )
    if reached is None:
        raise LogRefusal(
            503,
            "no_cosigned_checkpoint",
            f"no checkpoint is cosigned by {quorum} active witness(es) yet (AUDIT_WITNESS_QUORUM); try again later",
            retry_after=5,
        )
    return Checkpoint.objects.get(pk=reached)


def served_checkpoint() -> tuple[Checkpoint, str]:
    """The checkpoint `GET checkpoint` serves and its note exactly as served:
    the log's signature line first, then the active witnesses' cosignatures,
    by witness name (DESIGN §11). With AUDIT_WITNESS_QUORUM = 0, the latest
    checkpoint with whatever cosignatures it has; above, the latest that
    reached the quorum, else a 503 `no_cosigned_checkpoint`."""
    quorum = settings.AUDIT_LOG["WITNESS_QUORUM"]
    checkpoint = latest_checkpoint() if quorum == 0 else _cosigned_checkpoint(quorum)
    lines = (
        Cosignature.objects.filter(checkpoint=checkpoint, witness__retired_at__isnull=True)
        .order_by("witness__name")
        .values_list("line", flat=True)
    )
    return checkpoint, checkpoint.note + "".join(lines)


def _default_checkpoint() -> Checkpoint:
    """What proofs are for when no size is asked: the served checkpoint
    (with a quorum, the latest cosigned one), so that a proof and `GET
    checkpoint` agree."""
    quorum = settings.AUDIT_LOG["WITNESS_QUORUM"]
    return latest_checkpoint() if quorum == 0 else _cosigned_checkpoint(quorum)


def checkpoint_of(size: int | None) -> Checkpoint:
    """The checkpoint of `size`, or the latest when None."""
    if size is None:
        return _default_checkpoint()
    checkpoint = Checkpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise LogRefusal(400, "invalid_request", f"size: the log signed no checkpoint of size {size}")
    return checkpoint


def consistency(first: int, second: int) -> list[bytes]:
    """RFC 9162 §2.1.4 proof that the tree of `second` leaves extends that of
    `first`, for 0 < first <= second <= the served checkpoint's size."""
    latest = _default_checkpoint().size
    if not 0 < first <= second <= latest:
        raise LogRefusal(
            400,
            "invalid_request",
            f"first and second must satisfy 0 < first <= second <= {latest} (the latest served checkpoint's size)",
        )
    return tree.consistency_proof(first, second, TileCache().read)


@dataclass(frozen=True)
class Inclusion:
    entry: LogEntry
    checkpoint: Checkpoint
    proof: list[bytes]


def inclusion(entry_id: uuid.UUID, size: int | None = None) -> Inclusion:
    """The entry, its RFC 9162 §2.1.3 inclusion proof in the tree of `size`
    (default: the latest checkpoint's) and that checkpoint. 404 for an
    unknown entry, 409 for one not yet in a checkpoint."""
    entry = LogEntry.objects.filter(id=entry_id).first()
    if entry is None:
        raise LogRefusal(404, "not_found", f"no log entry {entry_id}")
    checkpoint = checkpoint_of(size)
    if entry.seq is None:  # the first checkpoint may have just placed it (latest_checkpoint integrates)
        entry.seq = LogEntry.objects.filter(id=entry.id).values_list("seq", flat=True).first()
    if entry.seq is None or entry.seq >= checkpoint.size:
        if size is not None and entry.seq is not None and entry.seq < latest_checkpoint().size:
            raise LogRefusal(400, "invalid_request", f"size: leaf {entry.seq} is not in the tree of size {size}")
        raise LogRefusal(
            409, "not_yet_integrated", f"entry {entry_id} is in no signed checkpoint yet; ask again", retry_after=1
        )
    return Inclusion(entry, checkpoint, tree.inclusion_proof(entry.seq, checkpoint.size, TileCache().read))


def _served_width(level: int | str, index: int, width: int | None, size: int) -> int:
    """The number of hashes (or entries) of a tile the latest checkpoint
    covers, when the tile asked for is one: full (width None) or partial."""
    have = tree.tile_width(0 if level == ENTRIES else level, index, size)
    wanted = width or tree.TILE_WIDTH
    if have < wanted or (width is not None and width == tree.TILE_WIDTH):
        raise LogRefusal(404, "not_found", "no such tile in the latest checkpoint's tree")
    return wanted


def hash_tile(level: int, index: int, width: int | None) -> bytes:
    """A C2SP hash tile: `width` hashes (256 when full) at tile `level`."""
    count = _served_width(level, index, width, latest_checkpoint().size)
    return TileCache().read(level, index)[: count * tree.HASH_SIZE]


def data_tile(index: int, width: int | None) -> bytes:
    """A C2SP entry bundle: each entry's bytes behind a big-endian uint16 length."""
    count = _served_width(ENTRIES, index, width, latest_checkpoint().size)
    start = index * tree.TILE_WIDTH
    rows = LogEntry.objects.filter(seq__gte=start, seq__lt=start + count).order_by("seq").values_list("body", flat=True)
    bodies = [bytes(body) for body in rows]
    if len(bodies) != count:
        raise LogRefusal(503, "service_unavailable", "the log's entries do not fill this tile; run verify_audit_log")
    return b"".join(len(body).to_bytes(2, "big") + body for body in bodies)


def oldest_unpublished() -> datetime | None:
    """The created_at of the oldest entry in no signed checkpoint, or None:
    pending entries first (the partial index), then placed ones beyond the
    latest checkpoint."""
    pending = LogEntry.objects.filter(seq__isnull=True).order_by("created_at").values_list("created_at", flat=True)
    oldest = pending.first()
    latest = Checkpoint.objects.aggregate(size=Max("size"))["size"] or 0
    placed = LogEntry.objects.filter(seq__gte=latest).order_by("seq").values_list("created_at", flat=True).first()
    return min((instant for instant in (oldest, placed) if instant is not None), default=None)
