"""The hash tiles in the database (C2SP tlog-tiles, DESIGN §6): one row per
tile position, holding as many hashes as the tree has grown to (a tile only
ever grows, by hashes appended). A tree of any size reads a prefix of each
tile, so proofs for every checkpointed size stay available, at O(log n)
reads each (recognition/log/tree.py reads each tile at most once a call)."""

from collections.abc import Mapping

from recognition.models import LogTile


class TileCache:
    """Tiles read from the database once each, and the tiles an append
    changed written back."""

    def __init__(self) -> None:
        self._tiles: dict[tuple[int, int], bytes] = {}
        self.reads = 0

    def read(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            self.reads += 1
            found = LogTile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
            self._tiles[key] = bytes(found) if found is not None else b""
        return self._tiles[key]

    def write(self, changed: Mapping[tuple[int, int], bytes]) -> None:
        LogTile.objects.bulk_create(
            [LogTile(level=level, index=index, hashes=hashes) for (level, index), hashes in changed.items()],
            update_conflicts=True,
            unique_fields=["level", "index"],
            update_fields=["hashes"],
        )
        self._tiles.update(changed)
