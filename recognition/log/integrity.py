"""The whole log checked from its stored bytes (DESIGN §6): every leaf hash
recomputed from the entry's bytes, the leaf indices contiguous from 0, each
decision's row equal to what its entry says, the tree rebuilt from the leaves
and compared with every stored tile, and every stored checkpoint's root and
signature checked with the log's published keys. `manage.py
verify_audit_log` and `GET /api/v1/audit/integrity/` report the same thing:
intact or not, and the first leaf index that does not hold."""

import base64
import json
import uuid
from dataclasses import dataclass
from itertools import islice
from typing import Any

from recognition.log import tree
from recognition.log.entries import DECISION_FIELDS, timestamp
from recognition.log.notes import NoteError, Verifier, checkpoint_text, parse_vkey, verify_note, vkey
from recognition.models import Checkpoint, LogEntry, LogPublicKey, LogTile, Verification

CHUNK = 1000


@dataclass(frozen=True)
class LogReport:
    intact: bool
    size: int
    root: bytes
    first_bad_seq: int | None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "first_bad_seq": self.first_bad_seq,
        }


# The members of a decision entry (recognition/log/entries.py); the entries of
# the audit chain the log replaced also keep their chain values (migration 0010).
_DECISION_MEMBERS = frozenset({*DECISION_FIELDS, "kind", "id", "created_at"})
_LEGACY = "legacy_chain"


def _decision_of(body: bytes) -> tuple[dict[str, Any], uuid.UUID] | None:
    """The members and id of a decision entry's bytes, or None when they are
    not one (bytes rewritten, by someone who rewrote the leaf hash too)."""
    try:
        entry = json.loads(body.decode("utf-8"))  # a str: json skips guessing the encoding
        if not isinstance(entry, dict) or set(entry) - {_LEGACY} != _DECISION_MEMBERS:
            return None
        if entry["kind"] != "decision" or not isinstance(entry["id"], str):
            return None
        return entry, uuid.UUID(entry["id"])
    except ValueError:  # not UTF-8, not JSON, not a UUID
        return None


_ROW_FIELDS = ("id", "created_at", *DECISION_FIELDS)


def _decision_rows(ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Any, ...]]:
    """The decision rows of `ids` as (created_at, *DECISION_FIELDS) tuples:
    values, not model instances, as the whole log passes through here."""
    rows = Verification.objects.filter(id__in=ids).values_list(*_ROW_FIELDS)
    return {row[0]: (timestamp(row[1]), *row[2:]) for row in rows}


def _decision_problem(entry: dict[str, Any], row: tuple[Any, ...] | None) -> str:
    if row is None:
        return "its decision row is missing"
    if any(entry[name] != value for name, value in zip(_ROW_FIELDS[1:], row, strict=True)):
        return "its decision row differs from the entry"
    return ""


def _leaves() -> tuple[list[bytes], int | None, str]:
    """Every leaf hash in order, recomputed; the first bad index and why."""
    leaves: list[bytes] = []
    rows = LogEntry.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", "kind", "body", "leaf_hash")
    rows = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        parsed = {seq: _decision_of(bytes(body)) for seq, kind, body, _ in chunk if kind == "decision"}
        ids = [found[1] for found in parsed.values() if found is not None]
        decisions = _decision_rows(ids)
        for seq, kind, body, stored in chunk:
            body = bytes(body)
            if seq != len(leaves):
                return leaves, len(leaves), f"leaf {len(leaves)} is missing"
            computed = tree.leaf_hash(body)
            if computed != bytes(stored):
                return leaves, seq, f"leaf {seq}: the stored hash is not SHA-256(0x00 || its bytes)"
            if kind == "decision":
                found = parsed[seq]
                if found is None:
                    return leaves, seq, f"leaf {seq}: its bytes are not a decision entry"
                problem = _decision_problem(found[0], decisions.get(found[1]))
                if problem:
                    return leaves, seq, f"leaf {seq}: {problem}"
            leaves.append(computed)
    return leaves, None, ""


def _tiles(leaves: list[bytes], complete: bool) -> tuple[dict[tuple[int, int], bytes], int | None, str]:
    """The tiles rebuilt from the leaves, and the first leaf a stored tile
    disagrees about: a hash changed, missing or in excess, a tile missing.
    When the leaves stop short of the log (`complete` False: a bad leaf),
    only what those leaves determine is compared."""
    built: dict[tuple[int, int], bytes] = {}
    for start in range(0, len(leaves), CHUNK):
        built.update(
            tree.append(start, leaves[start : start + CHUNK], lambda level, index: built.get((level, index), b""))
        )
    # (level, first leaf, end) of each disagreement: a hash at level L stands
    # for 256**L leaves, so the lowest level that disagrees names the leaf.
    found: list[tuple[int, int, int]] = []

    def bad(level: int, index: int, position: int) -> None:
        span = tree.TILE_WIDTH**level
        first = (index * tree.TILE_WIDTH + position) * span
        found.append((level, first, first + span))

    stored = set()
    for level, index, hashes in LogTile.objects.values_list("level", "index", "hashes").iterator(chunk_size=500):
        stored.add((level, index))
        expected, hashes = built.get((level, index), b""), bytes(hashes)
        if not complete:
            hashes = hashes[: len(expected)]
        if hashes != expected:
            end, size = max(len(hashes), len(expected)), tree.HASH_SIZE
            offset = next(n for n in range(0, end, size) if hashes[n : n + size] != expected[n : n + size])
            bad(level, index, offset // size)
    for level, index in built.keys() - stored:  # a tile the good leaves need is not stored at all
        bad(level, index, 0)
    named: list[int] = []
    for _, first, end in sorted(found):  # lower levels first: a higher one they explain names nothing more
        if not any(first <= leaf < end for leaf in named):
            named.append(first)
    first_bad = min(named, default=None)
    problem = f"the stored tiles disagree with the leaves from leaf {first_bad}" if first_bad is not None else ""
    return built, first_bad, problem


def _checkpoints(size: int, read: Any) -> tuple[int | None, str]:
    verifiers = [parse_vkey_of(row) for row in LogPublicKey.objects.all()]
    for checkpoint in Checkpoint.objects.order_by("size"):
        where = f"the checkpoint of size {checkpoint.size}"
        if checkpoint.size > size:
            return size, f"{where} is beyond the {size} leaves the log holds"
        root = tree.tree_root(checkpoint.size, read)
        try:
            text, _ = verify_note(checkpoint.note, verifiers)
        except NoteError as exc:
            return max(checkpoint.size - 1, 0), f"{where}: its signature does not verify ({exc})"
        origin = text.split("\n", 1)[0]
        if bytes(checkpoint.root) != root or text != checkpoint_text(origin, checkpoint.size, root):
            return max(checkpoint.size - 1, 0), f"{where} does not sign the root of the tree of that size"
    return None, ""


def parse_vkey_of(row: LogPublicKey) -> Verifier:
    return parse_vkey(vkey(row.name, bytes(row.public_key)))


def check_log() -> LogReport:
    leaves, first_bad, problem = _leaves()
    built, bad_tile, tile_problem = _tiles(leaves, complete=first_bad is None)
    if bad_tile is not None and (first_bad is None or bad_tile < first_bad):
        first_bad, problem = bad_tile, tile_problem

    def read(level: int, index: int) -> bytes:
        return built.get((level, index), b"")

    size = len(leaves)
    bad_checkpoint, checkpoint_problem = _checkpoints(size, read)
    if bad_checkpoint is not None and (first_bad is None or bad_checkpoint < first_bad):
        first_bad, problem = bad_checkpoint, checkpoint_problem
    root = tree.tree_root(size, read) if size else tree.EMPTY_ROOT
    return LogReport(intact=first_bad is None, size=size, root=root, first_bad_seq=first_bad, problem=problem)
