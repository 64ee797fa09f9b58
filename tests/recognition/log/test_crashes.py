"""A crash anywhere loses no entry and never places one twice (DESIGN §6):
the integrator runs in its own process (`manage.py integrate_audit_log`) on
the test's database, is held mid-batch by its test hook (a stage armed in
AUDIT_INTEGRATOR_TEST_PAUSE: the leaf indices given, the tiles grown, the
checkpoint signed, nothing committed yet), and is killed there with SIGKILL,
or on PostgreSQL loses its database connection (pg_terminate_backend, what a
database restart does to it). The integrator run again places every entry
exactly once, contiguously, and the log checks intact."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from recognition.log.integrator import _LOCK
from tests.support.log_processes import integrator_process, log_state, record
from tests.support.workers import database_url

STAGES = ("numbered", "grown", "signed")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def spawned(transactional_db):
    """The integrator processes a test starts, killed at its end if they are
    still there (one left holding a transaction would stall the flush of
    the test database)."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    started = time.monotonic()
    while not path.exists():
        assert process.poll() is None, f"the integrator ended first: {process.communicate()}"
        assert time.monotonic() - started < seconds, f"the integrator never reached {path.name}"
        time.sleep(0.02)


def paused_integrator(spawned, url: str, pause: Path, stage: str, *args: str) -> subprocess.Popen:
    """An integrator process held at `stage` of its batch."""
    pause.mkdir(exist_ok=True)
    (pause / stage).touch()
    process = integrator_process(url, *args, AUDIT_INTEGRATOR_TEST_PAUSE=str(pause))
    spawned.append(process)
    wait_for(pause / f"{stage}.paused", process)
    assert int((pause / f"{stage}.paused").read_text()) == process.pid
    return process


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def stop(process: subprocess.Popen) -> tuple[str, str]:
    """Stop an integrator's loop as Ctrl-C does (killed if it does not
    stop: a process left holding a transaction would stall the test
    database's flush); its output."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def integrate_once(url: str) -> str:
    """`integrate_audit_log --once` until it gets the lock (a killed
    process's PostgreSQL backend may hold it a moment longer); its output."""
    for _ in range(50):
        process = integrator_process(url, "--once")
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        if "another integrator" not in out:
            return out
        time.sleep(0.2)
    raise AssertionError("the lock was never released")


def assert_every_entry_placed_once(url: str, count: int) -> dict:
    state = log_state(url)
    assert len(state["entries"]) == count
    assert sorted(state["entries"].values()) == list(range(count))  # each entry once, no gap
    assert (state["size"], state["checkpoints"][-1]) == (count, count)
    assert (state["intact"], state["checked_size"], state["problem"]) == (True, count, "")
    return state


@pytest.mark.parametrize("stage", STAGES)
def test_an_integrator_killed_mid_batch_loses_nothing_and_the_next_places_each_entry_once(spawned, tmp_path, stage):
    url = database_url(tmp_path)
    record(url, 100)
    assert integrate_once(url) == "placed 100 entries; the tree has 100 leaves\n"
    record(url, 300)  # the next batch grows a partial tile and fills it

    kill(paused_integrator(spawned, url, tmp_path / "pause", stage, "--once"))

    state = log_state(url)  # nothing of the killed batch was kept
    assert sorted(seq for seq in state["entries"].values() if seq is not None) == list(range(100))
    assert (state["size"], state["checkpoints"], state["intact"]) == (100, [100], True)
    assert integrate_once(url) == "placed 300 entries; the tree has 400 leaves\n"
    assert_every_entry_placed_once(url, 400)


def test_an_integrator_waiting_for_the_lock_takes_over_from_one_killed_mid_batch(spawned, tmp_path):
    url = database_url(tmp_path)
    record(url, 120)
    held = paused_integrator(spawned, url, tmp_path / "pause", "grown", "--once")
    waiting = integrator_process(url)  # the loop, as a second web worker's thread runs it
    spawned.append(waiting)
    try:
        time.sleep(1)  # it tries, and finds the lock taken
        assert set(log_state(url)["entries"].values()) == {None}
        kill(held)
        deadline = time.monotonic() + 60
        while log_state(url)["checkpoints"][-1:] != [120]:
            assert time.monotonic() < deadline, "the other integrator never took over"
            time.sleep(0.2)
    finally:
        stop(waiting)
    assert_every_entry_placed_once(url, 120)


def integrator_backend() -> int:
    """The process id of the PostgreSQL backend that holds the integrator's
    lock in this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [_LOCK],
        )
        (pid,) = cursor.fetchone()
    return pid


@pytest.mark.parametrize("stage", STAGES)
def test_an_integrator_whose_database_connection_dies_mid_batch_retries_and_places_each_entry_once(
    postgres_only, spawned, tmp_path, stage
):
    url = database_url(tmp_path)
    record(url, 250)
    pause = tmp_path / "pause"
    process = paused_integrator(spawned, url, pause, stage)  # the loop: it retries by itself
    try:
        backend = integrator_backend()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
            assert cursor.fetchone() == (True,)
        os.remove(pause / stage)  # let it go on, on a connection that is gone
        deadline = time.monotonic() + 60
        while log_state(url)["checkpoints"][-1:] != [250]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the integrator never recovered"
            time.sleep(0.2)
    finally:
        _, err = stop(process)
    assert "the audit log's integrator failed; retrying" in err
    assert "django.db.utils.OperationalError" in err
    assert_every_entry_placed_once(url, 250)
