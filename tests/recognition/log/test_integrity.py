"""The log checked from its stored bytes (DESIGN §6): `check_log()`,
`manage.py verify_audit_log` and `GET /api/v1/audit/integrity/` report an
intact log with its size and root (the RFC 9162 root of the leaf hashes
recomputed from the entries' bytes), and name the first bad leaf index of a
log changed behind the application's back (on PostgreSQL the append-only
trigger is lifted for it, as the table owner could): an entry's bytes, its
leaf hash, its decision row, an entry deleted, two leaves swapped, a stored
tile, a checkpoint's root or signature."""

import base64
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.log.integrity import check_log
from recognition.log.keys import log_key
from recognition.log.notes import checkpoint_text, sign_note
from recognition.models import Checkpoint, LogEntry, LogTile
from recognition.services.audit import record_decisions
from tests.support.api import error_of, keyed, session
from tests.support.audit import entry, leaf_hash, tamper
from tests.support.cli import call, manage
from tests.support.log_api import stored_leaves

INTEGRITY = "/api/v1/audit/integrity/"


@pytest.fixture
def regulator_key(world) -> str:
    return api_key_create(name="market-regulator", role="regulator")[1]


@pytest.fixture
def platform_key(world) -> str:
    return api_key_create(name="shop-platform", role="platform")[1]


@dataclass(frozen=True)
class Log:
    sizes: list[int]  # checkpointed sizes, in order

    @property
    def size(self) -> int:
        return self.sizes[-1]


@pytest.fixture
def log(world, settings) -> Log:
    """The shared actors' registry changes (leaves 0 to 11), then decisions
    in four checkpoints, past one full tile (so a level-1 tile exists)."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    sizes = [integrate_all().size]
    for count, reasons in [(5, ["expired"]), (250, ["malformed_token"]), (40, ["no_agreement"])]:
        record_decisions([entry(reasons=reasons, client=f"shop-{n}") for n in range(count)], at=timezone.now())
        sizes.append(integrate_all().size)
    assert sizes == list(Checkpoint.objects.values_list("size", flat=True))
    assert LogEntry.objects.get(seq=100).kind == "decision" and LogEntry.objects.get(seq=11).kind == "change"
    assert LogTile.objects.filter(level=1).exists()
    return Log(sizes)


# An intact log ------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def test_an_intact_log_reports_its_size_and_the_root_of_its_leaves(log, regulator_key):
    leaves = stored_leaves()
    root = tree.root_of(leaves)

    report = check_log()

    assert (report.intact, report.size, report.root, report.first_bad_seq) == (True, log.size, root, None)
    assert report.problem == ""
    assert call("verify_audit_log").stdout == f"audit log intact: {log.size} leaves, root {b64(root)}\n"
    answer = keyed(regulator_key).get(INTEGRITY)
    assert answer.status_code == 200
    assert answer.json() == {"intact": True, "size": log.size, "root": b64(root), "first_bad_seq": None}
    assert bytes(Checkpoint.objects.get(size=log.size).root) == root


def test_an_empty_log_is_intact_with_the_empty_root(db):
    report = check_log()
    assert (report.intact, report.size, report.root, report.first_bad_seq) == (True, 0, tree.EMPTY_ROOT, None)


def test_pending_entries_are_not_yet_leaves(log):
    record_decisions([entry()], at=timezone.now())
    report = check_log()
    assert (report.intact, report.size) == (True, log.size)


def test_the_integrity_check_is_for_regulators(log, platform_key, regulator_key, world):
    for who in [keyed(regulator_key), session(world.rita), session(world.root)]:
        assert who.get(INTEGRITY).json()["intact"] is True
    error_of(keyed(platform_key).get(INTEGRITY), 403, "forbidden")
    error_of(session(world.alice).get(INTEGRITY), 403, "forbidden")
    error_of(APIClient().get(INTEGRITY), 401, "not_authenticated")
    error_of(APIClient().get(INTEGRITY, HTTP_AUTHORIZATION="Api-Key unknown.key"), 401, "authentication_failed")


# A log changed behind the application's back -------------------------------------------------


def body_of(seq: int) -> bytes:
    return bytes(LogEntry.objects.get(seq=seq).body)


def set_entry(seq: int, **columns: bytes) -> None:
    assignments = ", ".join(f"{name} = %s" for name in columns)
    tamper(
        f"UPDATE recognition_logentry SET {assignments} WHERE seq = %s",  # noqa: S608
        [*columns.values(), seq],
        table="recognition_logentry",
    )


def rewritten_decision(seq: int) -> bytes:
    body = body_of(seq)
    assert b'"decision":"rejected"' in body
    return body.replace(b'"decision":"rejected"', b'"decision":"accepted"').replace(b'["malformed_token"]', b"[]")


def set_decision_row(seq: int, assignments: str, params: list) -> None:
    tamper(
        f"UPDATE recognition_verification SET {assignments} "  # noqa: S608
        "WHERE id IN (SELECT id FROM recognition_logentry WHERE seq = %s)",
        [*params, seq],
    )


def delete_entry(seq: int) -> None:
    tamper("DELETE FROM recognition_logentry WHERE seq = %s", [seq], table="recognition_logentry")


def swap_leaves(seq: int) -> None:
    """Leaves seq and seq + 1 trade places (their bytes and hashes stay consistent)."""
    for old, new in [(seq, 10**9), (seq + 1, seq), (10**9, seq + 1)]:
        tamper("UPDATE recognition_logentry SET seq = %s WHERE seq = %s", [new, old], table="recognition_logentry")


def set_tile(level: int, index: int, hashes: bytes) -> None:
    tamper(
        'UPDATE recognition_logtile SET hashes = %s WHERE level = %s AND "index" = %s',
        [hashes, level, index],
        table="recognition_logtile",
    )


def flip_tile_hash(level: int, index: int, position: int) -> None:
    hashes = bytearray(LogTile.objects.get(level=level, index=index).hashes)
    hashes[position * tree.HASH_SIZE + 5] ^= 0x01
    set_tile(level, index, bytes(hashes))


def truncate_tile(level: int, index: int, drop: int) -> None:
    hashes = bytes(LogTile.objects.get(level=level, index=index).hashes)
    set_tile(level, index, hashes[: -drop * tree.HASH_SIZE])


def delete_tile(level: int, index: int) -> None:
    tamper(
        'DELETE FROM recognition_logtile WHERE level = %s AND "index" = %s',
        [level, index],
        table="recognition_logtile",
    )


def set_checkpoint(size: int, **columns: object) -> None:
    assignments = ", ".join(f"{name} = %s" for name in columns)
    tamper(
        f"UPDATE recognition_checkpoint SET {assignments} WHERE size = %s",  # noqa: S608
        [*columns.values(), size],
        table="recognition_checkpoint",
    )


def resign_checkpoint(size: int, key: Ed25519PrivateKey) -> None:
    """The checkpoint of `size` replaced by a well-formed one over a root
    that is not the tree's, signed by `key` under the log's name."""
    wrong_root = tree.leaf_hash(b"not the tree")
    origin = django_settings.AUDIT_LOG["ORIGIN"]
    set_checkpoint(size, root=wrong_root, note=sign_note(checkpoint_text(origin, size, wrong_root), origin, key))


def alter_signature(size: int) -> None:
    note = Checkpoint.objects.get(size=size).note
    text, _, line = note.rpartition("\u2014 ")
    name, signature = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 0x01
    set_checkpoint(size, note=f"{text}\u2014 {name} {b64(bytes(raw))}\n")


# (how the log is changed, the first bad leaf it must be named by, a word of the problem)
Case = tuple[Callable[[Log], None], Callable[[Log], int], str]
TAMPERED: dict[str, Case] = {
    "entry bytes changed": (lambda log: set_entry(100, body=rewritten_decision(100)), lambda log: 100, "SHA-256"),
    "entry bytes no longer json": (lambda log: set_entry(100, body=b"\xff\xfe{"), lambda log: 100, "SHA-256"),
    "first entry bytes changed": (lambda log: set_entry(0, body=body_of(0) + b" "), lambda log: 0, "SHA-256"),
    "leaf hash changed": (lambda log: set_entry(100, leaf_hash=bytes(32)), lambda log: 100, "SHA-256"),
    "bytes and leaf hash rewritten together": (
        lambda log: set_entry(100, body=rewritten_decision(100), leaf_hash=leaf_hash(rewritten_decision(100))),
        lambda log: 100,
        "decision row differs",
    ),
    "bytes and leaf hash rewritten into non-json": (
        lambda log: set_entry(100, body=b"not json", leaf_hash=leaf_hash(b"not json")),
        lambda log: 100,
        "not a decision entry",
    ),
    "decision row's client changed": (
        lambda log: set_decision_row(100, "client = %s", ["mallory"]),
        lambda log: 100,
        "decision row differs",
    ),
    "decision row's decision changed": (
        lambda log: set_decision_row(200, "decision = %s, reasons = %s", ["accepted", "[]"]),
        lambda log: 200,
        "decision row differs",
    ),
    "decision row deleted": (
        lambda log: tamper(
            "DELETE FROM recognition_verification WHERE id IN (SELECT id FROM recognition_logentry WHERE seq = %s)",
            [100],
        ),
        lambda log: 100,
        "decision row is missing",
    ),
    "entry deleted": (lambda log: delete_entry(100), lambda log: 100, "leaf 100 is missing"),
    "first entry deleted": (lambda log: delete_entry(0), lambda log: 0, "leaf 0 is missing"),
    "last entry deleted": (lambda log: delete_entry(log.size - 1), lambda log: log.size - 1, "tiles"),
    "two decisions swapped": (lambda log: swap_leaves(100), lambda log: 100, "tiles disagree"),
    "a change and a decision swapped": (lambda log: swap_leaves(11), lambda log: 11, "tiles disagree"),
    "tile hash changed": (lambda log: flip_tile_hash(0, 0, 100), lambda log: 100, "tiles disagree"),
    "first tile hash changed": (
        lambda log: flip_tile_hash(0, 0, 0),
        lambda log: 0,
        "tiles disagree with the leaves from leaf 0",
    ),
    "partial tile hash changed": (lambda log: flip_tile_hash(0, 1, 3), lambda log: 259, "tiles disagree"),
    "level-1 tile hash changed": (lambda log: flip_tile_hash(1, 0, 0), lambda log: 0, "tiles disagree"),
    "tile cut short": (lambda log: truncate_tile(0, 1, 10), lambda log: log.size - 10, "tiles disagree"),
    "tile deleted": (lambda log: delete_tile(0, 1), lambda log: 256, "tiles disagree"),
    "level-1 tile deleted": (lambda log: delete_tile(1, 0), lambda log: 0, "tiles disagree"),
    "checkpoint root changed": (
        lambda log: set_checkpoint(log.sizes[2], root=bytes(32)),
        lambda log: log.sizes[2] - 1,
        "does not sign the root",
    ),
    "checkpoint re-signed over a wrong root": (
        lambda log: resign_checkpoint(log.sizes[2], log_key().private_key),
        lambda log: log.sizes[2] - 1,
        "does not sign the root",
    ),
    "checkpoint signature altered": (
        lambda log: alter_signature(log.sizes[1]),
        lambda log: log.sizes[1] - 1,
        "signature does not verify",
    ),
    "checkpoint signed by another key": (
        lambda log: resign_checkpoint(log.sizes[-1], Ed25519PrivateKey.generate()),
        lambda log: log.size - 1,
        "signature does not verify",
    ),
}


@pytest.mark.parametrize(("change", "first_bad", "problem"), TAMPERED.values(), ids=TAMPERED)
def test_a_tampered_log_is_reported_naming_its_first_bad_leaf(log, regulator_key, change, first_bad, problem):
    change(log)
    bad = first_bad(log)

    report = check_log()

    assert (report.intact, report.first_bad_seq) == (False, bad), report.problem
    assert problem in report.problem
    with pytest.raises(CommandError) as refused:
        call("verify_audit_log")
    message = str(refused.value)
    assert message.startswith(f"audit log broken at leaf {bad}: {report.problem} (") and "\n" not in message
    answer = keyed(regulator_key).get(INTEGRITY)
    assert answer.status_code == 200
    assert answer.json() == {"intact": False, "size": report.size, "root": b64(report.root), "first_bad_seq": bad}


def test_the_first_of_two_bad_leaves_is_named(log):
    set_entry(200, leaf_hash=bytes(32))
    flip_tile_hash(0, 0, 150)
    alter_signature(log.sizes[1])
    assert check_log().first_bad_seq == log.sizes[1] - 1
    assert check_log().first_bad_seq == log.sizes[1] - 1  # read-only: the same again


# The command in a real process ----------------------------------------------------------------


def test_verify_audit_log_exits_non_zero_with_one_line_naming_the_leaf(tmp_path):
    database = tmp_path / "registry.sqlite3"
    assert manage(database, "migrate", "--no-input", "-v", "0").returncode == 0
    created = manage(database, "create_authority", "--country", "cl", "--name", "Log", "--issuer", "https://l.test")
    assert created.returncode == 0, created.stderr
    assert manage(database, "integrate_audit_log", "--once").returncode == 0

    intact = manage(database, "verify_audit_log")
    assert (intact.returncode, intact.stderr) == (0, "")
    assert intact.stdout.startswith("audit log intact: ") and len(intact.stdout.splitlines()) == 1

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE recognition_logentry SET body = CAST(? AS BLOB) WHERE seq = 0", [b"{}"])
    broken = manage(database, "verify_audit_log")

    assert broken.returncode == 1 and broken.stdout == ""
    assert broken.stderr.startswith("error: audit log broken at leaf 0: ")
    assert len(broken.stderr.splitlines()) == 1 and "Traceback" not in broken.stderr
