"""The witness's memory, one SQLite file of its own (stdlib sqlite3, never the
registry's database): per log origin the latest checkpoint it cosigned, the
refused requests worth keeping as evidence, and the witness key the file
belongs to.

C2SP tlog-witness: checking the old size against the stored checkpoint and
storing the new one must be atomic, or two concurrent requests can roll the
stored size back. `State.advance` runs both in one BEGIN IMMEDIATE
transaction: SQLite takes its write lock before the read, so a second
request waits for the first to commit and then sees its size. Each call
opens its own connection (cheap for SQLite), so that threads share nothing.

A file that is missing, not SQLite, of another schema, damaged (PRAGMA
integrity_check) or of another witness key is refused at start: carrying on
would forget what the witness cosigned, and the next checkpoint it accepted
could fork the log's history. Starting afresh is an explicit choice
(`reset`), which moves the old file aside rather than deleting it: its
refusals may be evidence.
"""

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from recognition.log.tree import EMPTY_ROOT

APPLICATION_ID = 0x57544E53  # "WTNS": marks the file as a witness state
SCHEMA_VERSION = 1
_BUSY_TIMEOUT_SECONDS = 30
_SCHEMA = {
    "witness": ("key_id", "vkey", "created_at"),
    "cosigned": ("origin", "size", "root", "request", "cosigned_at"),
    "refusals": ("id", "received_at", "origin", "status", "reason", "body"),
}
_CREATE = """
CREATE TABLE witness (key_id TEXT NOT NULL, vkey TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE cosigned (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    request TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE refusals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
"""
RESET_HINT = "`--reset-state` starts afresh, forgetting what this witness cosigned"


class StateError(Exception):
    """The state file cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint cosigned for an origin; size 0 and the empty
    tree's root when there is none yet (tlog-witness: "or zero")."""

    size: int
    root: bytes


NOTHING_YET = Cosigned(0, EMPTY_ROOT)


@dataclass(frozen=True)
class Refusal:
    """Why a checkpoint is not cosigned: an HTTP status of tlog-witness, a
    one-line reason, the size the witness holds (for a 409 on the old size)
    and whether the request is evidence of a log's misbehaviour, kept."""

    status: int
    reason: str
    size: int | None = None
    evidence: bool = False


@dataclass(frozen=True)
class KeptRequest:
    origin: str
    status: int
    reason: str
    body: bytes


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to an existing file (mode=rw: never creates one), in
    autocommit mode so that transactions are the ones written here."""
    uri = f"file:{quote(str(path.absolute()))}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def _problem(path: Path, key_id: str) -> str | None:
    """What is wrong with an existing state file, or None."""
    connection = None
    try:
        connection = _connect(path)
        if connection.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            return "it is damaged (PRAGMA integrity_check fails)"
        identity = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if identity != APPLICATION_ID or version != SCHEMA_VERSION:
            return "it is not a witness state file of this version"
        for table, columns in _SCHEMA.items():
            found = tuple(row[1] for row in connection.execute(f"PRAGMA table_info({table})"))
            if found != columns:
                return f"its table {table} is not the witness's (columns {', '.join(found) or 'none'})"
        owners = connection.execute("SELECT key_id, vkey FROM witness").fetchall()
        if len(owners) != 1:
            return f"it names {len(owners)} witness keys instead of one"
        if owners[0][0] != key_id:
            return f"it belongs to another witness key ({owners[0][1]})"
    except sqlite3.Error as exc:
        return f"it is not a readable SQLite database ({exc})"
    finally:
        if connection is not None:
            connection.close()
    return None


def _create(path: Path, key_id: str, vkey: str) -> None:
    """A new state file, made beside `path` and renamed onto it, so that a
    crash leaves either no file or a whole one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    temporary.unlink(missing_ok=True)
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.executescript(
                f"BEGIN; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
                + _CREATE
                + "COMMIT;"
            )
            connection.execute(
                "INSERT INTO witness (key_id, vkey, created_at) VALUES (?, ?, ?)", (key_id, vkey, int(time.time()))
            )
        finally:
            connection.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class State:
    """An opened, checked state file. `open` is the only way to get one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, path: Path, *, key_id: str, vkey: str, may_create: bool, reset: bool) -> tuple["State", str | None]:
        """The state of the witness key `key_id`, and where an old file was
        moved by `reset` (else None). A missing file is created only when
        `may_create` (a key created now) or `reset`; every other problem is
        a StateError saying why and how to start afresh."""
        path = Path(path)
        moved = None
        if reset:
            moved = cls._move_aside(path)
        elif not path.exists():
            if not may_create:
                raise StateError(
                    f"state file {path} is missing but the witness key exists; "
                    f"refusing to start, as the witness would forget what it cosigned ({RESET_HINT})"
                )
        else:
            problem = _problem(path, key_id)
            if problem:
                raise StateError(f"state file {path} cannot be used: {problem}; refusing to start ({RESET_HINT})")
            return cls(path), None
        try:
            _create(path, key_id, vkey)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"state file {path} cannot be created ({exc})") from None
        return cls(path), moved

    @staticmethod
    def _move_aside(path: Path) -> str | None:
        if not path.exists() and not path.is_symlink():
            return None
        aside = path.with_name(f"{path.name}.reset-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        try:
            os.replace(path, aside)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(f"state file {path} cannot be moved aside ({exc.strerror})") from None
        return str(aside)

    def latest(self, origin: str) -> Cosigned:
        connection = _connect(self.path)
        try:
            row = connection.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        finally:
            connection.close()
        return Cosigned(*row) if row else NOTHING_YET

    def advance(
        self, origin: str, decide: Callable[[Cosigned], Refusal | None], *, size: int, root: bytes, request: bytes
    ) -> Refusal | None:
        """Atomically: `decide` is given the latest cosigned checkpoint of
        `origin`; when it returns None, (size, root) becomes the latest; when
        it returns a Refusal, nothing changes but an evidence refusal keeps
        the request. The refusal is returned."""
        connection = _connect(self.path)
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
                refusal = decide(Cosigned(*row) if row else NOTHING_YET)
                now = int(time.time())
                if refusal is None:
                    connection.execute(
                        "INSERT INTO cosigned (origin, size, root, request, cosigned_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                        "request = excluded.request, cosigned_at = excluded.cosigned_at",
                        (origin, size, root, request.decode(), now),
                    )
                elif refusal.evidence:
                    connection.execute(
                        "INSERT INTO refusals (received_at, origin, status, reason, body) VALUES (?, ?, ?, ?, ?)",
                        (now, origin, refusal.status, refusal.reason, request),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            connection.close()
        return refusal

    def kept(self) -> list[KeptRequest]:
        """The refused requests kept as evidence, oldest first."""
        connection = _connect(self.path)
        try:
            rows = connection.execute("SELECT origin, status, reason, body FROM refusals ORDER BY id").fetchall()
        finally:
            connection.close()
        return [KeptRequest(*row) for row in rows]
