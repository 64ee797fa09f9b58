"""The integrator (DESIGN §6, "Integration"): committed entries get contiguous
leaf indices in batches, in (created_at, id) order within a batch; the
stored tiles are the tree of all the leaves; one integrator works at a time;
a checkpoint is signed whenever the tree grew, at most every
AUDIT_CHECKPOINT_SECONDS, and every checkpointed size stays provable. The
migrated chain's leaves come first. `run()` keeps integrating, survives a
database error and stops when asked. Crashes: test_crashes.py."""

import base64
import hashlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from recognition.log import integrator, tree
from recognition.log.entries import make_entry
from recognition.log.integrator import integrate, integrate_all
from recognition.log.integrity import check_log
from recognition.log.keys import log_key, published_vkeys
from recognition.log.notes import checkpoint_text, parse_vkey, verify_note
from recognition.log.tiles import TileCache
from recognition.models import Checkpoint, LogEntry, LogState, LogTile
from recognition.services.audit import record_decisions
from tests.support.audit import b64, entry
from tests.support.cli import call
from tests.support.log_processes import log_state, python
from tests.support.workers import database_url

T = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The integrator's clock (timezone.now), at T until moved."""
    clock = Clock(T)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def every(settings):
    """Set AUDIT_CHECKPOINT_SECONDS."""

    def set_interval(seconds: float) -> None:
        settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": seconds}

    return set_interval


def record(count: int, at: datetime = T) -> list[uuid.UUID]:
    return [recorded.id for recorded in record_decisions([entry() for _ in range(count)], at=at)]


def placed() -> list[uuid.UUID]:
    """The ids of the placed entries, in leaf order."""
    return list(LogEntry.objects.filter(seq__isnull=False).order_by("seq").values_list("id", flat=True))


def leaves() -> list[bytes]:
    rows = LogEntry.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", "leaf_hash")
    assert [seq for seq, _ in rows] == list(range(len(rows)))
    return [bytes(leaf) for _, leaf in rows]


def stored_tiles() -> dict[tuple[int, int], bytes]:
    return {
        (level, index): bytes(hashes)
        for level, index, hashes in LogTile.objects.values_list("level", "index", "hashes")
    }


def verifiers():
    return [parse_vkey(line) for line in published_vkeys()]


def checkpoints() -> list[tuple[int, datetime]]:
    return list(Checkpoint.objects.order_by("size").values_list("size", "created_at"))


# Leaf indices -----------------------------------------------------------------------------------


def test_pending_entries_get_contiguous_leaf_indices_batch_by_batch_in_time_then_id_order(db):
    late = record(5, at=T + 2 * SECOND)  # five sharing an instant
    early = record(4, at=T)
    middle = record(6, at=T + SECOND)
    expected = sorted(early) + sorted(middle) + sorted(late)

    batches = []
    while (done := integrate(batch=4)).placed:
        batches.append(done.placed)
        assert LogState.objects.get().size == done.size == sum(batches)
    assert batches == [4, 4, 4, 3]
    assert placed() == expected

    # An entry found later is placed later, whatever its instant: nothing is renumbered.
    older = record(1, at=T - timedelta(hours=1))
    assert integrate(batch=4).placed == 1
    assert placed() == [*expected, *older]


def test_the_stored_tiles_are_the_tree_of_all_the_leaves_at_once(db):
    record(600, at=T)  # past one full tile: a tile of level 1 too
    while integrate(batch=97).placed:
        pass

    all_leaves = leaves()
    assert len(all_leaves) == 600
    assert stored_tiles() == tree.append(0, all_leaves, lambda level, index: b"")
    state = LogState.objects.get()
    assert (state.size, bytes(state.root)) == (600, tree.root_of(all_leaves))
    assert tree.tree_root(600, TileCache().read) == tree.root_of(all_leaves)
    assert check_log().intact


def test_integrate_all_places_everything_in_batches(db, monkeypatch):
    monkeypatch.setattr(integrator, "BATCH", 7)
    record(30)
    done = integrate_all()
    assert (done.placed, done.size) == (30, 30)
    assert LogEntry.objects.filter(seq__isnull=True).count() == 0


# Entries numbered already (the chain's rows, migration 0010) -----------------------------------------


def numbered(seq: int, at: datetime) -> uuid.UUID:
    """An entry numbered already, as migration 0010 writes the chain's rows."""
    made = make_entry("change", uuid.uuid4(), at, {"note": f"numbered {seq}"})
    LogEntry.objects.create(id=made.id, kind="change", created_at=at, body=made.body, leaf_hash=made.leaf_hash, seq=seq)
    return made.id


def test_entries_numbered_already_are_placed_first_then_the_pending_ones(db):
    pending = sorted(record(3, at=T - timedelta(days=1)))  # older than the chain's rows, still after them
    chain = [numbered(seq, T + seq * SECOND) for seq in range(5)]

    sizes = []
    while (done := integrate(batch=3)).placed:
        sizes.append(done.size)
    assert sizes == [3, 6, 8]
    assert placed() == chain + pending
    assert bytes(LogState.objects.get().root) == tree.root_of(leaves())
    assert check_log().intact


def test_a_gap_in_the_entries_numbered_already_is_refused_and_nothing_is_placed(db):
    record(2)
    numbered(0, T)
    numbered(2, T)

    with pytest.raises(RuntimeError, match=r"^the log has a gap: leaf 1 is missing before leaf 2$"):
        integrate()

    assert LogState.objects.get().size == 0
    assert LogEntry.objects.filter(seq__isnull=True).count() == 2
    assert LogTile.objects.count() == 0


# Checkpoints -------------------------------------------------------------------------------------------


def test_the_first_checkpoint_is_signed_at_once_of_the_empty_tree_when_nothing_is_pending(db, clock, every):
    every(3600)
    done = integrate()
    assert (done.placed, done.size, done.checkpoint.size) == (0, 0, 0)
    assert bytes(done.checkpoint.root) == tree.EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert integrate().checkpoint is None  # nothing grew
    assert checkpoints() == [(0, T)]


def test_the_first_checkpoint_covers_what_was_pending(db, clock, every):
    every(3600)
    record(3)
    done = integrate()
    assert (done.placed, done.checkpoint.size) == (3, 3)
    assert checkpoints() == [(3, T)]


def test_a_checkpoint_whenever_the_tree_grew_and_at_most_every_interval(db, clock, every):
    every(60)
    integrate()  # the empty tree's, at T
    record(2)
    clock.now = T + 10 * SECOND
    assert (integrate().placed, checkpoints()) == (2, [(0, T)])  # grown, but the last is 10 s old
    clock.now = T + 60 * SECOND - timedelta(microseconds=1)
    assert integrate().checkpoint is None
    clock.now = T + 60 * SECOND
    assert integrate().checkpoint.size == 2  # due: the tree as it stands
    clock.now = T + 500 * SECOND
    assert integrate().checkpoint is None  # due, but the tree did not grow
    record(1)
    assert integrate().checkpoint.size == 3  # grew, and the last is older than the interval: at once
    assert checkpoints() == [(0, T), (2, T + 60 * SECOND), (3, T + 500 * SECOND)]


def test_a_checkpoint_is_a_note_signed_by_the_log_key_over_the_documented_text(db, settings):
    record(5)
    checkpoint = integrate().checkpoint

    origin = settings.AUDIT_LOG["ORIGIN"]
    root = tree.root_of(leaves())
    text, signers = verify_note(checkpoint.note, verifiers())
    assert text == checkpoint_text(origin, 5, root) == f"{origin}\n5\n{b64(root)}\n"
    assert [signer.name for signer in signers] == [origin]
    key = log_key()
    body, signature_line = checkpoint.note.split("\n\n")
    assert body + "\n" == text
    name, signature = signature_line.removeprefix("\u2014 ").removesuffix("\n").split(" ")
    raw = base64.b64decode(signature)
    assert (name, raw[:4]) == (origin, key.key_id)
    key.private_key.public_key().verify(raw[4:], text.encode())  # raises if it does not verify
    assert (checkpoint.size, bytes(checkpoint.root)) == (5, root)
    assert published_vkeys()[0] == key.vkey


def test_every_checkpointed_size_stays_provable_after_the_tree_grew(db, clock, every):
    every(1)
    for count in (1, 4, 251, 1, 43, 212):  # sizes 1, 5, 256, 257, 300, 512
        record(count)
        clock.now += 2 * SECOND
        integrate()
    sizes = [size for size, _ in checkpoints()]
    assert sizes == [1, 5, 256, 257, 300, 512]
    all_leaves = leaves()
    read = TileCache().read
    for checkpoint in Checkpoint.objects.all():
        size, root = checkpoint.size, bytes(checkpoint.root)
        assert verify_note(checkpoint.note, verifiers())[0] == checkpoint_text(
            checkpoint.note.split("\n")[0], size, root
        )
        assert tree.tree_root(size, read) == root == tree.root_of(all_leaves[:size])
        for index in {0, size // 2, size - 1}:
            proof = tree.inclusion_proof(index, size, read)
            assert tree.verify_inclusion(index, size, all_leaves[index], proof, root)
        for later in Checkpoint.objects.filter(size__gt=size):
            proof = tree.consistency_proof(size, later.size, read)
            assert tree.verify_consistency(size, later.size, root, bytes(later.root), proof)


def test_integrate_audit_log_once_reports_what_it_placed(db):
    record(3)
    assert call("integrate_audit_log", "--once").stdout == "placed 3 entries; the tree has 3 leaves\n"
    assert call("integrate_audit_log", "--once").stdout == "placed 0 entries; the tree has 3 leaves\n"
    assert Checkpoint.objects.latest("size").size == 3


# One integrator at a time --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_integrators_started_together_one_gets_the_lock_and_no_entry_is_placed_twice(postgres_only, monkeypatch):
    record(40)
    barrier = threading.Barrier(2, timeout=30)
    winner_inside, loser_done = threading.Event(), threading.Event()
    append = tree.append

    def slow_append(*args, **kwargs):
        winner_inside.set()
        assert loser_done.wait(30), "the other integrator never came back"
        return append(*args, **kwargs)

    monkeypatch.setattr(tree, "append", slow_append)

    def one_integrator():
        try:
            barrier.wait()
            done = integrate()
            if done.placed == 0:
                assert winner_inside.wait(30)
                loser_done.set()
            return done
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [future.result(timeout=60) for future in [pool.submit(one_integrator) for _ in range(2)]]
    assert sorted((done.placed, done.size) for done in results) == [(0, -1), (40, 40)]
    assert len(placed()) == 40 and LogEntry.objects.filter(seq__isnull=True).count() == 0
    assert check_log().intact


# run(): the integrator's loop, in a thread of another process ------------------------------------------
#
# In a child process on the test's database (tests/support/log_processes.py):
# the loop's thread and the process's requests each have their connection,
# as in a web worker; SQLite's in-memory test database would lock instead.

RUN_IN_A_THREAD = """
from django.db import connections
from django.utils import timezone
from recognition.log import integrator
from recognition.models import Checkpoint, LogEntry
from recognition.services.audit import record_decisions
from tests.support.audit import entry

def loop():
    try:
        integrator.run(stop)
    finally:
        connections.close_all()

def wait_until(condition, seconds):
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            return None
        time.sleep(0.02)
    return time.monotonic() - started

def in_a_checkpoint(ids):
    def check():
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
        seqs = list(LogEntry.objects.filter(id__in=ids).values_list("seq", flat=True))
        return latest is not None and None not in seqs and max(seqs) < latest
    return check

stop = threading.Event()
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # on PostgreSQL, the child's data is committed; flushed after
def test_run_integrates_new_entries_within_two_checkpoint_intervals_and_stops_when_asked(tmp_path):
    code = (
        RUN_IN_A_THREAD
        + """
thread = threading.Thread(target=loop)
thread.start()
first = wait_until(lambda: Checkpoint.objects.exists(), 10)
waits = []
for _ in range(3):
    ids = [r.id for r in record_decisions([entry()] * 4, at=timezone.now())]
    waits.append(wait_until(in_a_checkpoint(ids), 10))
stop.set()
thread.join(5)
print(json.dumps({"first": first, "waits": waits, "alive": thread.is_alive()}))
"""
    )
    url = database_url(tmp_path)
    ran = python(url, code, AUDIT_CHECKPOINT_SECONDS="1")

    assert ran["first"] is not None and not ran["alive"]
    assert all(wait is not None and wait < 2 * 1.0 for wait in ran["waits"]), ran["waits"]
    state = log_state(url)
    assert (state["intact"], state["size"], state["checkpoints"][-1]) == (True, 12, 12)
    assert sorted(state["entries"].values()) == list(range(12))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_error_inside_run_is_logged_and_retried(tmp_path):
    code = (
        RUN_IN_A_THREAD
        + """
import logging
from django.db import OperationalError

real, failures = integrator.integrate, []

def failing_once(**kwargs):
    if not failures:
        failures.append(1)
        raise OperationalError("server closed the connection unexpectedly")
    return real(**kwargs)

integrator.integrate = failing_once
logged = []
handler = logging.Handler()
handler.emit = lambda record: logged.append([record.getMessage(), str(record.exc_info[1])])
logging.getLogger("recognition.log.integrator").addHandler(handler)
ids = [r.id for r in record_decisions([entry()] * 3, at=timezone.now())]
thread = threading.Thread(target=loop)
thread.start()
waited = wait_until(in_a_checkpoint(ids), 10)
stop.set()
thread.join(5)
print(json.dumps({"waited": waited, "failures": failures, "logged": logged, "alive": thread.is_alive()}))
"""
    )
    url = database_url(tmp_path)
    ran = python(url, code, AUDIT_CHECKPOINT_SECONDS="0.1")

    assert ran["failures"] == [1] and ran["waited"] is not None and not ran["alive"]
    assert ran["logged"] == [
        ["the audit log's integrator failed; retrying", "server closed the connection unexpectedly"]
    ]
    state = log_state(url)
    assert (state["intact"], state["size"]) == (True, 3)


def test_integrate_audit_log_once_says_so_when_another_integrator_holds_the_lock(postgres_only):
    record(2)
    other = connections.create_connection("default")  # another session, as another process holds it
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [integrator._LOCK])
        assert call("integrate_audit_log", "--once").stdout == "placed 0 entries; another integrator is at work\n"
        assert LogEntry.objects.filter(seq__isnull=True).count() == 2
        with other.cursor() as cursor:
            # Released at once: a closed session's locks go only when its
            # server process has ended, which may come after close() returns.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [integrator._LOCK])
    finally:
        other.close()
    assert call("integrate_audit_log", "--once").stdout == "placed 2 entries; the tree has 2 leaves\n"
