"""SQLite records a request's decisions without waiting for the disk while
it holds its one write lock, and waits right after, outside it, before the
answer: concurrent requests no longer queue one fsync at a time (bench:
verify+audit over HTTP on SQLite)."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recognition.models import LogEntry
from recognition.services import audit
from tests.support.audit import entry


@pytest.fixture
def sqlite_only(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's synchronous setting")


@pytest.mark.django_db(transaction=True)
def test_the_commit_skips_the_fsync_and_the_log_is_synced_after_it(sqlite_only, monkeypatch):
    synced = []
    monkeypatch.setattr(audit, "_fsync_wal", lambda: synced.append(LogEntry.objects.count()))

    with CaptureQueriesContext(connection) as queries:
        (recorded,) = audit.record_decisions([entry()], at=timezone.now())

    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[0] == "PRAGMA synchronous = NORMAL"
    assert statements[-1] == "PRAGMA synchronous = FULL"
    assert synced == [1]  # after the commit: the entry is there for everyone
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL again for every other write of the connection


@pytest.mark.django_db(transaction=True)
def test_the_write_ahead_log_itself_is_synced(sqlite_only, monkeypatch, tmp_path):
    wal = tmp_path / "registry.sqlite3-wal"
    wal.write_bytes(b"frames")
    monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "registry.sqlite3"))
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")))

    audit._fsync_wal()

    assert synced == [str(wal)]
