"""Failures of recording a decision after its rows were sent to the database:
each database's ways of committing and then failing to say so. Shared by the
service's tests and the API's (the 503 that names the entry)."""

from django.db import InterfaceError, OperationalError, connection

from recognition.services import audit


def written_then_lost(error: Exception):
    """The statement reached the database, which ran and committed it
    (autocommit), then the connection failed before it answered."""

    def fail(monkeypatch) -> None:
        insert = audit.insert_together

        def insert_then_fail(*args, **kwargs):
            insert(*args, **kwargs)
            raise error

        monkeypatch.setattr(audit, "insert_together", insert_then_fail)

    return fail


def committed_then_lost(error: Exception):
    """SQLite: the transaction is committed, then the commit reports a failure."""

    def fail(monkeypatch) -> None:
        commit = connection.commit

        def commit_then_fail():
            commit()
            raise error

        monkeypatch.setattr(connection, "commit", commit_then_fail)

    return fail


def wal_not_synced(error: Exception):
    """SQLite: committed, then the write-ahead log could not be synced to disk."""

    def fail(monkeypatch) -> None:
        def fsync_fails() -> None:
            raise error

        monkeypatch.setattr(audit, "_fsync_wal", fsync_fails)

    return fail


# The failures after the rows were sent that each database can have.
AFTER_SENDING = {
    "postgresql": {
        "answer lost": written_then_lost(OperationalError("server closed the connection unexpectedly")),
        "connection gone": written_then_lost(InterfaceError("connection already closed")),
    },
    "sqlite": {
        "commit unconfirmed": committed_then_lost(OperationalError("disk I/O error")),
        "commit failed on the disk": committed_then_lost(OSError(5, "Input/output error")),
        "fsync of the log failed": wal_not_synced(OSError(5, "Input/output error")),
    },
}

FAILURES = sorted({name for failures in AFTER_SENDING.values() for name in failures})
