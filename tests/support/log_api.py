"""The transparency log (DESIGN §6) for tests: grown in checkpoints, read
back through its HTTP API as an outside verifier would, and the tree
recomputed from the stored bytes alone (tests/support/audit.py's leaf hash,
recognition/log/tree.py's RFC 9162 recursion), never from the stored hashes."""

import base64
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.log.notes import parse_checkpoint, parse_vkey, verify_note
from recognition.log.tiles import TileCache
from recognition.models import Checkpoint, LogEntry, LogState
from recognition.services.audit import record_decisions
from tests.recognition.log import readme_example
from tests.support.audit import entry, leaf_hash, tamper

LOG = "/api/v1/audit/log/"


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def stored_leaves() -> list[bytes]:
    """The leaf hash of every integrated entry, in leaf order, recomputed
    from its stored bytes."""
    bodies = LogEntry.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", "body")
    leaves = []
    for expected, (seq, body) in enumerate(bodies):
        assert seq == expected
        leaves.append(leaf_hash(bytes(body)))
    return leaves


def checkpointed_sizes() -> list[int]:
    return list(Checkpoint.objects.order_by("size").values_list("size", flat=True))


def grow(settings, *, decisions: int) -> int:
    """Record `decisions` decisions (as a rejected malformed token), in
    one instant, and integrate them into a new checkpoint; its size."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    if decisions:
        record_decisions([entry()] * decisions, at=timezone.now() - timedelta(seconds=1))
    done = integrate_all()
    assert done.checkpoint is not None or decisions == 0
    return done.size


def tiles_of(size: int) -> list[tuple[int, int, int]]:
    """(level, index, width) of every tile of the tree of `size` leaves."""
    found, level = [], 0
    while size >> (tree.TILE_HEIGHT * level):
        index = 0
        while width := tree.tile_width(level, index, size):
            found.append((level, index, width))
            index += 1
        level += 1
    return found


def entry_bundle(data: bytes) -> list[bytes]:
    """C2SP tlog-tiles entry bundle: each entry behind a big-endian uint16 length."""
    entries, offset = [], 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + length])
        assert len(entries[-1]) == length
        offset += 2 + length
    return entries


def vkeys(client: APIClient | None = None) -> list[str]:
    response = (client or APIClient()).get(f"{LOG}key")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.endswith("\n")
    return text.splitlines()


def opened(note: str, vkey: str) -> tuple[int, bytes]:
    """The (size, root) of a checkpoint note, verified twice: by
    recognition/log/notes.py, and by the README's stand-alone check
    (tests/recognition/log/readme_example.py), which shares no code with it."""
    text, verified = verify_note(note, [parse_vkey(vkey)])
    assert [verifier.name for verifier in verified] == [vkey.split("+", 2)[0]]
    checkpoint = parse_checkpoint(text)
    assert checkpoint.origin == vkey.split("+", 2)[0] and checkpoint.extensions == ()
    assert readme_example.open_checkpoint(note, vkey) == (checkpoint.size, checkpoint.root)
    return checkpoint.size, checkpoint.root


def latest(client: APIClient | None = None) -> tuple[str, int, bytes]:
    """The served checkpoint, verified with the first served key: (note, size, root)."""
    response = (client or APIClient()).get(f"{LOG}checkpoint")
    assert response.status_code == 200, response.content
    note = response.content.decode("utf-8")
    size, root = opened(note, vkeys(client)[0])
    return note, size, root


def proof_of(client: APIClient, entry_id: object, size: int | None = None) -> dict:
    query = f"?size={size}" if size is not None else ""
    response = client.get(f"{LOG}entries/{entry_id}/proof{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def check_inclusion(proof: dict, vkey: str) -> int:
    """The served proof holds: its entry's bytes hash to its leaf hash, its
    checkpoint verifies, and the path leads from the leaf to the checkpoint's
    root; the leaf index."""
    assert set(proof) == {"id", "seq", "leaf_hash", "entry", "size", "inclusion", "checkpoint"}
    leaf = b64decode(proof["leaf_hash"])
    assert leaf == leaf_hash(proof["entry"].encode("utf-8"))
    size, root = opened(proof["checkpoint"], vkey)
    assert size == proof["size"]
    path = [b64decode(h) for h in proof["inclusion"]]
    assert tree.verify_inclusion(proof["seq"], size, leaf, path, root)
    assert readme_example.root_from_inclusion(proof["seq"], size, leaf, path) == root
    return proof["seq"]


def restore_to(size: int) -> None:
    """The log as a backup taken at `size` would restore it: the entries
    from leaf `size` on, the checkpoints beyond it and their cosignatures
    gone, the hash tile cut back and the integrator's state with it (the
    append-only guards lifted as tests/support/audit.py's tamper does). The
    tree must fit in one tile (under 256 leaves)."""
    tiles = TileCache()
    assert LogState.objects.get().size < tree.TILE_WIDTH
    kept = tiles.read(0, 0)[: size * tree.HASH_SIZE]
    tamper(
        "DELETE FROM recognition_cosignature WHERE checkpoint_id IN "
        "(SELECT id FROM recognition_checkpoint WHERE size > %s)",
        [size],
        table="recognition_cosignature",
    )
    tamper("DELETE FROM recognition_checkpoint WHERE size > %s", [size], table="recognition_checkpoint")
    tamper("DELETE FROM recognition_logentry WHERE seq >= %s", [size], table="recognition_logentry")
    tamper(
        'UPDATE recognition_logtile SET hashes = %s WHERE level = 0 AND "index" = 0',
        [kept],
        table="recognition_logtile",
    )
    root = tree.tree_root(size, TileCache().read)
    LogState.objects.filter(id=1).update(size=size, root=root)
