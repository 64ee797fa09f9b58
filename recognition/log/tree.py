"""The Merkle tree of the transparency log: RFC 9162 §2.1 hashing and proofs
over hashes stored as C2SP tlog-tiles (https://c2sp.org/tlog-tiles).

Pure: hashlib only, no Django, no database. Storage is the caller's, reached
through `read_tile(level, index)`, which returns the hashes of that tile
stored so far, concatenated (b"" when there are none).

Tiles (C2SP tlog-tiles, "Merkle Tree"): tile `index` at `level` holds up to
256 hashes; its i-th hash is MTH(D[(index*256 + i) * 256**level : ... +
256**level]). Level 0 holds the leaf hashes, a hash at level L >= 1 is the
MTH of a *full* tile at level L-1, and the rightmost tile of each level may
be partial. A tree of size s uses only the first `tile_width(level, index,
s)` hashes of a tile, so a stored tile that has grown since still answers
for an older size.

Every hash the proofs need is the MTH of a perfect, aligned subtree: 2**h
leaves starting at a multiple of 2**h. It is the root of 2**(h % 8)
consecutive hashes of one tile at level h // 8 (C2SP: "The Merkle Tree
levels between those expressed by the tile hashes are reconstructed by
hashing the leaves"), so a proof reads about two tiles per level.
"""

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence

HASH_SIZE = 32
TILE_HEIGHT = 8  # C2SP tlog-tiles: a tile is a subtree of height 8
TILE_WIDTH = 256
TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_LEVEL = 63  # C2SP: "<L> ... MUST be a decimal ASCII integer between 0 and 63"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = HASH()

ReadTile = Callable[[int, int], bytes]
"""read_tile(level, index) -> the stored hashes of that tile so far,
concatenated (b"" when none); may hold more than a given tree size needs."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the RFC 9162 §2.1.1 recursion itself, from all the leaf
    hashes, without tiles: the straightforward oracle for the rest."""

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = _split(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


def _fold(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree (2**r hashes, r >= 0) over `hashes`."""
    sha256 = hashlib.sha256
    while len(hashes) > 1:
        hashes = [sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)]
    return hashes[0]


def _hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


# -- Tile paths (C2SP tlog-tiles: <prefix>/tile/<L>/<N>[.p/<W>]) --------------


def _check_int(name: str, value: object, low: int = 0, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}, not {value}")


def _check_level(level: int | str, entries: bool = False) -> None:
    if entries and level == "entries":
        return
    _check_int("level", level, 0, MAX_LEVEL)


def tile_path(level: int | str, index: int, width: int | None = None) -> str:
    """C2SP tlog-tiles path of a tile: `tile_path(0, 1234067, 5)` is
    "tile/0/x001/x234/067.p/5"; level "entries" names an entry bundle
    ("tile/entries/003"). Width None or 256 is a full tile (no .p suffix)."""
    _check_level(level, entries=True)
    _check_int("index", index)
    if width is not None:
        _check_int("width", width, 1, TILE_WIDTH)
    groups = [f"{index % 1000:03d}"]
    while index >= 1000:
        index //= 1000
        groups.insert(0, f"x{index % 1000:03d}")
    suffix = f".p/{width}" if width is not None and width < TILE_WIDTH else ""
    return f"tile/{level}/{'/'.join(groups)}{suffix}"


_LEVEL = re.compile(r"entries|0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


def parse_tile_path(path: str) -> tuple[int | str, int, int | None]:
    """(level or "entries", index, width or None for a full tile) of a path
    exactly in C2SP form; ValueError naming the problem for anything else."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise ValueError(f"{path!r}: a tile path is tile/<L>/<N>[.p/<W>]")
    level_text, groups = parts[1], parts[2:]
    if not _LEVEL.fullmatch(level_text):
        raise ValueError(f"{path!r}: the level must be 'entries' or 0 to 63 without leading zeros")
    level: int | str = level_text if level_text == "entries" else int(level_text)
    if isinstance(level, int) and level > MAX_LEVEL:
        raise ValueError(f"{path!r}: level {level} is above {MAX_LEVEL}")
    width = None
    if groups[-1].endswith(".p"):
        raise ValueError(f"{path!r}: a partial tile needs its width after .p/")
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        if not _WIDTH.fullmatch(groups[-1]) or int(groups[-1]) >= TILE_WIDTH:
            raise ValueError(f"{path!r}: the width must be 1 to 255 without leading zeros")
        width = int(groups[-1])
        groups = [*groups[:-2], groups[-2][:-2]]
    for position, group in enumerate(groups):
        last = position == len(groups) - 1
        if not re.fullmatch(r"[0-9]{3}" if last else r"x[0-9]{3}", group):
            expected = "three digits" if last else "'x' and three digits"
            raise ValueError(f"{path!r}: index element {group!r} must be {expected}")
    if len(groups) > 1 and groups[0] == "x000":
        raise ValueError(f"{path!r}: the index has a leading x000 element")
    index = int("".join(group.lstrip("x") for group in groups))
    if tile_path(level, index, width) != path:
        raise ValueError(f"{path!r} is not in canonical form")
    return level, index, width


# -- Tiles of a tree ---------------------------------------------------------


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves:
    0 if none, 256 if full (C2SP: the partial tile at level l of a tree of
    size s has floor(s / 256**l) mod 256 hashes)."""
    _check_level(level)
    _check_int("index", index)
    _check_int("size", size)
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def _stored(read_tile: ReadTile, level: int, index: int, width: int) -> bytes:
    """The first `width` hashes of tile (level, index), or ValueError."""
    data = read_tile(level, index)
    if len(data) < width * HASH_SIZE:
        raise ValueError(
            f"tile {tile_path(level, index)} holds {len(data)} bytes; "
            f"{width} hashes ({width * HASH_SIZE} bytes) are needed"
        )
    return data[: width * HASH_SIZE]


def append(size: int, leaves: Sequence[bytes], read_tile: ReadTile) -> dict[tuple[int, int], bytes]:
    """The tiles that change when the leaf hashes `leaves` are appended to a
    tree of `size` leaves: {(level, index): full contents after the append}.

    Reads only the rightmost tile of each level that has a partial one, each
    once; hashes beyond what `size` needs in it are dropped. Each tile that
    becomes full adds its MTH to the level above (C2SP tlog-tiles)."""
    _check_int("size", size)
    for position, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf {position} is not a {HASH_SIZE}-byte hash")
    changed: dict[tuple[int, int], bytes] = {}
    new = b"".join(leaves)
    level, count = 0, size  # count: hashes at this level before the append
    while new:
        first, width = divmod(count, TILE_WIDTH)
        data = _stored(read_tile, level, first, width) + new if width else new
        completed = []
        for offset in range(0, len(data), TILE_BYTES):
            tile = data[offset : offset + TILE_BYTES]
            changed[(level, first + offset // TILE_BYTES)] = tile
            if len(tile) == TILE_BYTES:
                completed.append(_fold(_hashes(tile)))
        new = b"".join(completed)
        level, count = level + 1, count // TILE_WIDTH
    return changed


class _Tiles:
    """The tiles of a tree of `size` leaves, each read at most once."""

    def __init__(self, read_tile: ReadTile, size: int) -> None:
        self.read_tile, self.size = read_tile, size
        self.tiles: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, index: int) -> bytes:
        if (level, index) not in self.tiles:
            width = tile_width(level, index, self.size)
            self.tiles[(level, index)] = _stored(self.read_tile, level, index, width)
        return self.tiles[(level, index)]

    def perfect(self, height: int, position: int) -> bytes:
        """MTH of the perfect subtree of 2**height leaves starting at leaf
        position * 2**height: the root of 2**r hashes of one tile."""
        level, r = divmod(height, TILE_HEIGHT)
        start = position << r  # first hash, counted along `level`
        data = self.tile(level, start // TILE_WIDTH)
        offset = (start % TILE_WIDTH) * HASH_SIZE
        return _fold(_hashes(data[offset : offset + (HASH_SIZE << r)]))

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) by the RFC 9162 §2.1.1 recursion, each perfect
        aligned subtree taken from the tiles. O(log n) subtrees when lo is a
        multiple of the power of two >= hi - lo (every range a proof needs);
        other ranges may reach down to single leaves."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.perfect(n.bit_length() - 1, lo // n)
        k = _split(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))


def subtree_hash(start: int, end: int, read_tile: ReadTile) -> bytes:
    """MTH(D[start:end]) (RFC 9162 §2.1.1) from the tiles of the tree of
    `end` leaves; EMPTY_ROOT when start == end."""
    _check_int("start", start)
    _check_int("end", end)
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    return _Tiles(read_tile, end).mth(start, end) if start < end else EMPTY_ROOT


def tree_root(size: int, read_tile: ReadTile) -> bytes:
    """MTH(D[size]), the root hash of the tree of `size` leaves."""
    _check_int("size", size)
    return subtree_hash(0, size, read_tile)


def inclusion_proof(index: int, size: int, read_tile: ReadTile) -> list[bytes]:
    """PATH(index, D[size]), RFC 9162 §2.1.3.1: the audit path of leaf
    `index` (0 <= index < size), from the leaf's sibling up to the root."""
    _check_int("index", index)
    _check_int("size", size)
    if index >= size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    tiles, path = _Tiles(read_tile, size), []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(tiles.mth(lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(tiles.mth(lo, lo + k))
            lo += k
    return path[::-1]


def consistency_proof(first: int, second: int, read_tile: ReadTile) -> list[bytes]:
    """PROOF(first, D[second]) = SUBPROOF(first, D[second], true), RFC 9162
    §2.1.4.1, for 0 < first <= second (empty when they are equal)."""
    _check_int("first", first, 1)
    _check_int("second", second)
    if first > second:
        raise ValueError(f"first {first} is after second {second}")
    tiles, path = _Tiles(read_tile, second), []
    lo, hi, whole = 0, second, True  # whole: b, D[lo:hi] starts at the old tree's start
    while first != hi:  # until m == n in SUBPROOF(m, D[lo:hi], b)
        k = _split(hi - lo)
        if first <= lo + k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            path.append(tiles.mth(lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            path.append(tiles.mth(lo, lo + k))
            lo, whole = lo + k, False
    common = [] if whole else [tiles.mth(lo, hi)]  # m == n: {} if b, else {MTH(D[m])}
    return common + path[::-1]


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{name} must be a {HASH_SIZE}-byte hash")


def _well_formed(proof: Sequence[bytes]) -> bool:
    return all(isinstance(p, bytes) and len(p) == HASH_SIZE for p in proof)


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether `proof` shows the leaf hash `leaf` at
    `index` in the tree of `size` leaves whose root is `root`. The proof
    does not bind the size: a checkpoint signs (size, root) together."""
    _check_int("index", index)
    _check_int("size", size)
    if index >= size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    _check_hash("leaf", leaf)
    _check_hash("root", root)
    if not _well_formed(proof):
        return False
    fn, sn, r = index, size - 1, leaf  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)  # step 5


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `first`
    leaves with root `first_root` is a prefix of the tree of `second`
    leaves with root `second_root`, 0 < first <= second. Equal sizes have
    the empty proof (SUBPROOF(m, D[m], true) = {}) and equal roots."""
    _check_int("first", first, 1)
    _check_int("second", second)
    if first > second:
        raise ValueError(f"first {first} is after second {second}")
    _check_hash("first_root", first_root)
    _check_hash("second_root", second_root)
    if first == second:
        return not proof and hmac.compare_digest(first_root, second_root)
    if not proof or not _well_formed(proof):  # step 1
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)  # step 7
