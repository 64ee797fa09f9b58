"""The integrator (DESIGN §6): gives committed entries contiguous leaf indices,
in batches, in the order it finds them committed; grows the hash tiles; and
signs a checkpoint whenever the tree has grown, at most every
AUDIT_CHECKPOINT_SECONDS.

One integrator at a time: the only lock of the log is this one (a
transaction-scoped advisory lock on PostgreSQL; SQLite's write lock, which
BEGIN IMMEDIATE takes). A batch is one transaction: the leaf indices, the
tiles, the state and the checkpoint commit together or not at all, so a
process killed or a database restarted mid-batch loses no entry and never
places one twice (and `seq` is unique besides).

Entries that already have a leaf index beyond the tiles (the rows of the
audit chain the log replaced, numbered by migration 0010) are taken first,
in their order.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from recognition.log import tree
from recognition.log.keys import log_key, publish
from recognition.log.notes import checkpoint_text, sign_note
from recognition.log.tiles import TileCache
from recognition.models import Checkpoint, LogEntry, LogState

logger = logging.getLogger(__name__)

BATCH = 5000
# Any constant: the key of the PostgreSQL advisory lock of the integrator.
_LOCK = 0x4D52524C  # "MRRL"


@dataclass(frozen=True)
class Integrated:
    placed: int  # leaves added to the tree by this run
    size: int  # the tree's size after it
    checkpoint: Checkpoint | None  # signed by this run


def _locked() -> bool:
    """Take the integrator's lock for this transaction; False if another
    integrator holds it (PostgreSQL). SQLite's BEGIN IMMEDIATE already holds
    the database's write lock."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        return bool(cursor.fetchone()[0])


def _state() -> LogState:
    state = LogState.objects.select_for_update().filter(id=1).first()
    if state is None:  # the migration creates it; a database flushed by a test run has none
        state = LogState.objects.create(id=1, size=0, root=tree.EMPTY_ROOT, updated_at=timezone.now())
    return state


def _numbered(size: int, batch: int) -> list[bytes]:
    """Leaf hashes of entries numbered already at size, size + 1, ... (the
    replaced chain's rows), in order; they must be contiguous."""
    rows = list(LogEntry.objects.filter(seq__gte=size).order_by("seq").values_list("seq", "leaf_hash")[:batch])
    for expected, (seq, _) in enumerate(rows, start=size):
        if seq != expected:
            raise RuntimeError(f"the log has a gap: leaf {expected} is missing before leaf {seq}")
    return [bytes(leaf) for _, leaf in rows]


def _number_pending(size: int, batch: int) -> list[bytes]:
    """Give the next leaf indices to committed entries that have none, oldest
    first; their leaf hashes in that order."""
    pending = list(
        LogEntry.objects.filter(seq__isnull=True).order_by("created_at", "id").values_list("id", "leaf_hash")[:batch]
    )
    if not pending:
        return []
    numbered = [(str(id), size + n) for n, (id, _) in enumerate(pending)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::uuid, %s::bigint)"] * len(numbered))
            cursor.execute(
                f"UPDATE recognition_logentry SET seq = v.seq FROM (VALUES {values}) AS v(id, seq) "  # noqa: S608
                "WHERE recognition_logentry.id = v.id AND recognition_logentry.seq IS NULL",
                [value for pair in numbered for value in pair],
            )
            updated = cursor.rowcount
        else:
            cursor.executemany(
                "UPDATE recognition_logentry SET seq = %s WHERE id = %s AND seq IS NULL",
                [(seq, id.replace("-", "")) for id, seq in numbered],
            )
            updated = cursor.rowcount
    if updated != len(numbered):
        raise RuntimeError(f"{len(numbered)} entries to number, {updated} numbered: another integrator ran")
    return [bytes(leaf) for _, leaf in pending]


def _checkpoint(state: LogState, now: datetime) -> Checkpoint | None:
    """Sign the tree as it stands, if it has grown since the last checkpoint
    and that one is old enough (or there is none yet: the empty tree's)."""
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is not None:
        if latest.size == state.size:
            return None
        if (now - latest.created_at).total_seconds() < settings.AUDIT_LOG["CHECKPOINT_SECONDS"]:
            return None
    key = log_key()
    publish(key)
    root = bytes(state.root)
    note = sign_note(checkpoint_text(key.name, state.size, root), key.name, key.private_key)
    return Checkpoint.objects.create(size=state.size, root=root, note=note, created_at=now)


# The crash tests' hook (tests/recognition/log/test_crashes.py): with
# AUDIT_INTEGRATOR_TEST_PAUSE naming a directory, a batch that reaches a
# stage named by a file there says so (<stage>.paused, holding its process
# id) and waits while that file exists, so that a test can kill the process
# or its database connection mid-batch. Unset, as in production: nothing.
_PAUSE_DIR = os.environ.get("AUDIT_INTEGRATOR_TEST_PAUSE", "")


def _pause(stage: str) -> None:
    if not _PAUSE_DIR:
        return
    armed = Path(_PAUSE_DIR) / stage
    if armed.exists():
        said = Path(_PAUSE_DIR) / f"{stage}.paused.tmp"
        said.write_text(str(os.getpid()))
        said.replace(said.with_suffix(""))  # whole, or not there yet
        while armed.exists():
            time.sleep(0.02)


def integrate(*, batch: int = BATCH) -> Integrated:
    """One batch: place up to `batch` entries and sign a checkpoint if one is
    due. Nothing when another integrator holds the lock."""
    with transaction.atomic():
        if not _locked():
            return Integrated(0, -1, None)
        state = _state()
        leaves = _numbered(state.size, batch)
        if len(leaves) < batch:  # the migrated leaves run out in this batch: the pending entries follow
            leaves += _number_pending(state.size + len(leaves), batch - len(leaves))
        _pause("numbered")
        if leaves:
            tiles = TileCache()
            changed = tree.append(state.size, leaves, tiles.read)
            tiles.write(changed)
            state.size += len(leaves)
            state.root = tree.tree_root(state.size, tiles.read)
            state.updated_at = timezone.now()
            state.save(update_fields=["size", "root", "updated_at"])
        _pause("grown")
        checkpoint = _checkpoint(state, timezone.now())
        _pause("signed")
    return Integrated(len(leaves), state.size, checkpoint)


def integrate_all() -> Integrated:
    """Integrate until nothing is pending; the last batch's report."""
    placed = 0
    while True:
        done = integrate()
        placed += done.placed
        if done.placed < BATCH:
            return Integrated(placed, done.size, done.checkpoint)


def _pending() -> bool:
    """Whether there is work: an entry without a leaf index, or leaves not in
    a checkpoint yet. Read-only, so that an idle integrator takes no lock."""
    if LogEntry.objects.filter(seq__isnull=True).exists():
        return True
    state = LogState.objects.filter(id=1).values_list("size", flat=True).first()
    latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
    return state is None or latest is None or state != latest


def run(stop: threading.Event, *, poll: float | None = None) -> None:
    """Integrate until `stop` is set: a batch whenever there is work, a
    short sleep otherwise. An error (a database restarting) is logged and
    retried; a batch that failed left nothing half-written."""
    poll = poll if poll is not None else min(0.25, settings.AUDIT_LOG["CHECKPOINT_SECONDS"] / 4)
    while not stop.is_set():
        close_old_connections()
        try:
            done = integrate() if _pending() else None
        except Exception:
            logger.exception("the audit log's integrator failed; retrying")
            connection.close()
            stop.wait(1.0)
            continue
        if done is None or done.placed < BATCH:
            # A checkpoint that was not yet due comes at the next round.
            stop.wait(poll)


_thread: threading.Thread | None = None
_stop = threading.Event()


def start_in_background() -> None:
    """The integrator in a daemon thread of this process (AUDIT_INTEGRATOR=
    thread): every web worker runs one, and the lock lets one work at a
    time, so no extra process is needed."""
    global _thread
    if settings.AUDIT_LOG["INTEGRATOR"] != "thread" or (_thread is not None and _thread.is_alive()):
        return
    _thread = threading.Thread(target=run, args=(_stop,), name="audit-log-integrator", daemon=True)
    _thread.start()
