"""recognition/log/tree.py: RFC 9162 §2.1 Merkle trees over C2SP tlog-tiles.

Checked against the published RFC 6962 / RFC 9162 test vectors, pymerkle
(an independent Python implementation, used only here), and Go's
golang.org/x/mod/sumdb/tlog reading our tiles (go/tlogcheck). Pure: no
database."""

import json
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pymerkle import InmemoryTree

from recognition.log.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    append,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    parse_tile_path,
    root_of,
    subtree_hash,
    tile_path,
    tile_width,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from tests.recognition.log import golang
from tests.recognition.log.golang import build_go_program, require_go


class Tiles:
    """A tile store in a dict, counting reads; grows by `append`."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.reads: list[tuple[int, int]] = []

    def read(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return self.tiles.get((level, index), b"")

    def grow(self, leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
        changed = append(self.size, leaves, self.read)
        self.tiles.update(changed)
        self.size += len(leaves)
        return changed

    def counted(self, call):
        """(result of call(read), the tiles it read)."""
        self.reads = []
        return call(self.read), self.reads


def tiles_of(leaves: list[bytes], batches: list[int] | None = None) -> Tiles:
    tiles, done = Tiles(), 0
    for batch in batches or [len(leaves)]:
        tiles.grow(leaves[done : done + batch])
        done += batch
    assert done == len(leaves)
    return tiles


def entries(count: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randint(0, 40)) for _ in range(count)]


def random_batches(total: int, rng: random.Random, largest: int) -> list[int]:
    batches = []
    while total > 0:
        batches.append(min(total, rng.randint(1, largest)))
        total -= batches[-1]
    return batches


def rejected(verify, *args) -> bool:
    """A verifier refuses: False, or ValueError for impossible arguments."""
    try:
        return verify(*args) is False
    except ValueError:
        return True


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- RFC 6962 / RFC 9162 known answers -----------------------------------------
# The 8 leaf inputs, roots of sizes 1..8, node hashes and proofs used by
# certificate-transparency implementations since RFC 6962, copied from
# github.com/transparency-dev/merkle: testonly/constants.go (LeafInputs,
# RootHashes, NodeHashes; commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1) and
# proof/verify_test.go (inclusionProofs, consistencyProofs; commit
# 02194e9afb6c1d95b5381350007963aa70fff472). That file counts leaves from 1
# ({1, 8, ...} is leaf index 0); the indexes below count from 0.

RFC_ENTRIES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
RFC_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
RFC_INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
RFC_CONSISTENCY = [  # (first, second, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


@pytest.fixture(scope="module")
def rfc_tiles() -> Tiles:
    return tiles_of([leaf_hash(entry) for entry in RFC_ENTRIES], batches=[3, 1, 4])


def test_the_empty_tree_and_the_leaf_and_node_hashes_are_rfc_9162s():
    assert EMPTY_ROOT.hex() == RFC_ROOTS[0]
    assert root_of([]) == EMPTY_ROOT
    assert leaf_hash(b"").hex() == RFC_ROOTS[1]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == RFC_ROOTS[2]


def test_the_roots_of_the_reference_leaves_are_the_published_ones(rfc_tiles):
    leaves = [leaf_hash(entry) for entry in RFC_ENTRIES]
    for size, root in RFC_ROOTS.items():
        assert root_of(leaves[:size]).hex() == root
        assert tree_root(size, rfc_tiles.read).hex() == root


@pytest.mark.parametrize(("index", "size", "proof"), RFC_INCLUSION)
def test_inclusion_proofs_of_the_reference_tree_are_the_published_ones(rfc_tiles, index, size, proof):
    assert [p.hex() for p in inclusion_proof(index, size, rfc_tiles.read)] == proof
    assert verify_inclusion(index, size, leaf_hash(RFC_ENTRIES[index]), [h(p) for p in proof], h(RFC_ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "proof"), RFC_CONSISTENCY)
def test_consistency_proofs_of_the_reference_tree_are_the_published_ones(rfc_tiles, first, second, proof):
    assert [p.hex() for p in consistency_proof(first, second, rfc_tiles.read)] == proof
    assert verify_consistency(first, second, h(RFC_ROOTS[first]), h(RFC_ROOTS[second]), [h(p) for p in proof])


# -- pymerkle as an independent oracle -----------------------------------------
# pymerkle 7.0.0 counts leaves from 1, hashes as RFC 9162 (0x00 / 0x01
# prefixes, SHA-256: checked by the first test below), and its inclusion path
# is [leaf hash, then RFC 9162's PATH]. Its consistency proofs are another
# construction (a path from a leaf or subtree at the old tree's edge up to the
# new root, flagging the hashes that make the old root), not RFC 9162's
# SUBPROOF, so they
# cannot be compared hash by hash. Instead: pymerkle verifies its own proof
# between our two roots, and each hash of our proof is pymerkle's root of the
# same leaves, the ranges following the RFC's SUBPROOF recursion written
# again below.

ORACLE_LEAVES = 1000
ORACLE_SIZES = sorted({1, 2, 255, 256, 257, 511, 512, 1000, *random.Random(9162).sample(range(3, 1000), 6)})


@pytest.fixture(scope="module")
def oracle():
    data = entries(ORACLE_LEAVES, seed=6962)
    theirs = InmemoryTree(algorithm="sha256")
    for entry in data:
        theirs.append_entry(entry)
    leaves = [leaf_hash(entry) for entry in data]
    ours = tiles_of(leaves, random_batches(ORACLE_LEAVES, random.Random(1), 300))
    return data, leaves, ours, theirs


def test_pymerkle_hashes_as_rfc_9162():
    theirs = InmemoryTree(algorithm="sha256")
    for entry in RFC_ENTRIES:
        theirs.append_entry(entry)
    assert [theirs.get_root(size).hex() for size in range(9)] == list(RFC_ROOTS.values())


@pytest.mark.parametrize("size", ORACLE_SIZES)
def test_every_inclusion_proof_and_the_root_agree_with_pymerkle(oracle, size):
    _, leaves, ours, theirs = oracle
    root = tree_root(size, ours.read)
    assert root == theirs.get_root(size) == root_of(leaves[:size])
    for index in range(size):
        proof = inclusion_proof(index, size, ours.read)
        expected = theirs.prove_inclusion(index + 1, size)
        assert expected.path == [leaves[index], *proof]
        assert verify_inclusion(index, size, leaves[index], proof, root)


def rfc_subproof_ranges(m: int, lo: int, hi: int, whole: bool) -> list[tuple[int, int]]:
    """The leaf ranges of SUBPROOF(m, D[lo:hi], b), RFC 9162 §2.1.4.1, as written there."""
    if m == hi - lo:
        return [] if whole else [(lo, hi)]
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    if m <= k:
        return [*rfc_subproof_ranges(m, lo, lo + k, whole), (lo + k, hi)]
    return [*rfc_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def consistency_pairs() -> list[tuple[int, int]]:
    rng = random.Random(2)
    pairs = {(1, 1), (1, 2), (1, 1000), (255, 256), (256, 257), (256, 1000), (511, 512), (512, 1000), (1000, 1000)}
    while len(pairs) < 60:
        pairs.add(tuple(sorted((rng.randint(1, ORACLE_LEAVES), rng.randint(1, ORACLE_LEAVES)))))
    return sorted(pairs)


def test_consistency_proofs_agree_with_pymerkle(oracle):
    data, leaves, ours, theirs = oracle
    range_roots: dict[tuple[int, int], bytes] = {}

    def pymerkle_root(lo: int, hi: int) -> bytes:
        if (lo, hi) not in range_roots:
            tree = InmemoryTree(algorithm="sha256")
            for entry in data[lo:hi]:
                tree.append_entry(entry)
            range_roots[(lo, hi)] = tree.get_root()
        return range_roots[(lo, hi)]

    for first, second in consistency_pairs():
        first_root, second_root = tree_root(first, ours.read), tree_root(second, ours.read)
        assert (first_root, second_root) == (theirs.get_root(first), theirs.get_root(second))
        theirs.prove_consistency(first, second).verify(first_root, second_root, prior_size=first, later_size=second)
        proof = consistency_proof(first, second, ours.read)
        assert proof == [pymerkle_root(lo, hi) for lo, hi in rfc_subproof_ranges(first, 0, second, True)]
        assert verify_consistency(first, second, first_root, second_root, proof)


def flips(hashes: list[bytes]):
    """Every way of changing one byte of one of `hashes`."""
    for i, value in enumerate(hashes):
        for j in range(len(value)):
            changed = bytearray(value)
            changed[j] ^= 0x01 << (j % 8)
            yield [*hashes[:i], bytes(changed), *hashes[i + 1 :]]


def test_an_inclusion_proof_fails_when_a_byte_the_index_or_the_size_changes(oracle):
    _, leaves, ours, _ = oracle
    rng = random.Random(3)
    for size in (1, 2, 3, 256, 257, 700, 1000):
        root = tree_root(size, ours.read)
        for index in {0, size - 1, rng.randrange(size)}:
            proof, leaf = inclusion_proof(index, size, ours.read), leaves[index]
            assert verify_inclusion(index, size, leaf, proof, root)
            for changed in flips(proof):
                assert rejected(verify_inclusion, index, size, leaf, changed, root)
            for [changed_leaf, changed_root] in flips([leaf, root]):
                assert rejected(verify_inclusion, index, size, changed_leaf, proof, changed_root)
            for other in {index - 1, index + 1, index ^ 2, size, -1} - {index}:
                assert rejected(verify_inclusion, other, size, leaf, proof, root)
            # The proof does not bind the size (a checkpoint signs size and root
            # together): another size is refused with that size's own root.
            for other in {size - 1, size + 1, size * 2, size // 2} - {size}:
                if 0 < other <= ORACLE_LEAVES:
                    assert rejected(verify_inclusion, index, other, leaf, proof, root_of(leaves[:other]))
            assert rejected(verify_inclusion, index, size, leaf, [*proof, root], root)
            assert not proof or rejected(verify_inclusion, index, size, leaf, proof[:-1], root)


def test_a_consistency_proof_fails_when_a_byte_or_a_size_changes(oracle):
    _, leaves, ours, _ = oracle
    roots = {size: tree_root(size, ours.read) for size in range(1, ORACLE_LEAVES + 1)}
    for first, second in [(1, 2), (3, 8), (4, 8), (255, 256), (256, 257), (300, 1000), (512, 1000), (999, 1000)]:
        proof = consistency_proof(first, second, ours.read)
        assert verify_consistency(first, second, roots[first], roots[second], proof)
        for changed in flips(proof):
            assert rejected(verify_consistency, first, second, roots[first], roots[second], changed)
        for [first_root, second_root] in flips([roots[first], roots[second]]):
            assert rejected(verify_consistency, first, second, first_root, second_root, proof)
        # As for inclusion, a changed size is refused with that size's own root.
        for other in {first - 1, first + 1, first ^ 2} - {first}:
            if other in roots:
                assert rejected(verify_consistency, other, second, roots[other], roots[second], proof)
        for other in {second - 1, second + 1, second * 2, second // 2} - {second}:
            if other in roots:
                assert rejected(verify_consistency, first, other, roots[first], roots[other], proof)
        assert rejected(verify_consistency, 0, second, roots[first], roots[second], proof)
        assert rejected(verify_consistency, first, second, roots[second], roots[first], proof)
        assert rejected(verify_consistency, first, second, roots[first], roots[second], [])
        assert rejected(verify_consistency, first, second, roots[first], roots[second], [*proof, proof[0]])
        assert rejected(verify_consistency, first, second, roots[first], roots[second], [proof[0], *proof])
        assert rejected(verify_consistency, first, second, roots[first], roots[second], proof[:-1])
    assert verify_consistency(7, 7, roots[7], roots[7], [])
    assert not verify_consistency(7, 7, roots[7], roots[8], [])
    assert not verify_consistency(7, 7, roots[7], roots[7], [roots[7]])


# -- Tiles -----------------------------------------------------------------------


def test_appending_in_batches_gives_the_tiles_and_roots_of_one_append():
    leaves = [leaf_hash(entry) for entry in entries(2100, seed=4)]
    whole = tiles_of(leaves)
    rng = random.Random(5)
    tiles = Tiles()

    def partial_tiles_that_grow(size: int, batch: int) -> list[tuple[int, int]]:
        hashes = [(size >> (TILE_HEIGHT * level), (size + batch) >> (TILE_HEIGHT * level)) for level in range(4)]
        return [(level, old // TILE_WIDTH) for level, (old, new) in enumerate(hashes) if old % TILE_WIDTH and new > old]

    for batch in random_batches(len(leaves), rng, 300):
        size = tiles.size
        changed, read = tiles.counted(
            lambda read, size=size, batch=batch: append(size, leaves[size : size + batch], read)
        )
        # Only the rightmost tile of each level, when partial and growing, is read, once.
        assert read == partial_tiles_that_grow(size, batch)
        tiles.tiles.update(changed)
        tiles.size += batch
        assert tree_root(tiles.size, tiles.read) == root_of(leaves[: tiles.size])
    assert tiles.tiles == whole.tiles
    for size in range(1, 700):
        assert tree_root(size, tiles.read) == root_of(leaves[:size])


def test_appending_across_levels_in_batches_gives_the_tiles_of_one_append():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)]
    batched = tiles_of(leaves, random_batches(len(leaves), random.Random(6), 5000))
    assert batched.tiles == tiles_of(leaves).tiles
    assert tree_root(70_000, batched.read) == root_of(leaves)
    assert append(70_000, [], batched.read) == {}


def test_the_tiles_of_a_tree_of_70000_leaves_are_c2sps_example():
    # C2SP tlog-tiles: "273 full level 0 tiles, one partial level 0 tile of
    # width 112, one full level 1 tile, one partial level 1 tile of width 17,
    # and one partial level 2 tile of width 1."
    tiles = tiles_of([leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)])
    widths = {key: len(value) // HASH_SIZE for key, value in tiles.tiles.items()}
    assert widths == {
        **{(0, index): 256 for index in range(273)},
        (0, 273): 112,
        (1, 0): 256,
        (1, 1): 17,
        (2, 0): 1,
    }
    assert {key: tile_width(*key, 70_000) for key in widths} == widths
    assert tile_width(0, 274, 70_000) == tile_width(3, 0, 70_000) == 0
    # "a tree of size 256 will be represented by a full level 0 tile and a
    # partial level 1 tile of width 1."
    assert (tile_width(0, 0, 256), tile_width(0, 1, 256), tile_width(1, 0, 256)) == (256, 0, 1)
    assert len(tiles_of([leaf_hash(b"")] * 256).tiles[(1, 0)]) == HASH_SIZE


def test_proofs_for_an_old_size_are_those_of_the_old_tree():
    leaves = [leaf_hash(entry) for entry in entries(3000, seed=7)]
    old = tiles_of(leaves[:1300])
    grown = tiles_of(leaves[:1300])
    grown.grow(leaves[1300:])
    assert grown.tiles[(0, 5)] != old.tiles[(0, 5)]  # the old partial tile has grown
    assert tree_root(1300, grown.read) == tree_root(1300, old.read) == root_of(leaves[:1300])
    for index in [0, 255, 256, 1000, 1279, 1280, 1299]:
        assert inclusion_proof(index, 1300, grown.read) == inclusion_proof(index, 1300, old.read)
    for first in [1, 256, 700, 1024, 1299, 1300]:
        assert consistency_proof(first, 1300, grown.read) == consistency_proof(first, 1300, old.read)
    assert subtree_hash(1000, 1300, grown.read) == root_of(leaves[1000:1300])
    assert subtree_hash(7, 7, grown.read) == EMPTY_ROOT


def test_a_proof_reads_few_tiles_and_each_once():
    def most_reads(size: int) -> tuple[int, int]:
        tiles = tiles_of([leaf_hash(i.to_bytes(4, "big")) for i in range(size)])
        rng = random.Random(size)
        worst = {"inclusion": 0, "consistency": 0}
        for index in {0, 255, 256, size // 2, size - 1, *rng.sample(range(size), 40)}:
            _, read = tiles.counted(lambda read, index=index: inclusion_proof(index, size, read))
            assert len(read) == len(set(read))
            worst["inclusion"] = max(worst["inclusion"], len(read))
            first = rng.randint(1, size)
            second = rng.randint(first, size)
            _, read = tiles.counted(lambda read, first=first, second=second: consistency_proof(first, second, read))
            assert len(read) == len(set(read))
            worst["consistency"] = max(worst["consistency"], len(read))
        return worst["inclusion"], worst["consistency"]

    small, large = most_reads(1000), most_reads(70_000)  # 2 and 3 tile levels
    print(f"most tiles read (inclusion, consistency): 1,000 leaves {small}, 70,000 leaves {large}")
    assert large[0] <= 2 * 3 + 1 and large[1] <= 2 * 3 + 2
    assert large[0] <= 2 * small[0] and large[1] <= 2 * small[1]


def test_appending_100000_leaves_in_batches_of_5000_is_quick():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    tiles = Tiles()
    started = time.perf_counter()
    for start in range(0, len(leaves), 5000):
        tiles.grow(leaves[start : start + 5000])
    elapsed = time.perf_counter() - started
    print(f"append: {len(leaves) / elapsed:,.0f} leaves/second")
    assert elapsed < 10
    assert tree_root(100_000, tiles.read) == root_of(leaves)


def test_a_stored_tile_shorter_than_the_tree_needs_is_refused():
    tiles = tiles_of([leaf_hash(b"x")] * 300)
    tiles.tiles[(0, 1)] = tiles.tiles[(0, 1)][:-HASH_SIZE]
    with pytest.raises(ValueError, match=r"tile/0/001 holds 1376 bytes; 44 hashes"):
        tree_root(300, tiles.read)
    with pytest.raises(ValueError, match="tile/0/001"):
        append(300, [leaf_hash(b"y")], tiles.read)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda read: append(-1, [], read), "size must be at least 0, not -1"),
        (lambda read: append(0, [EMPTY_ROOT, b"short"], read), "leaf 1 is not a 32-byte hash"),
        (lambda read: subtree_hash(5, 4, read), "start 5 is after end 4"),
        (lambda read: subtree_hash(-1, 4, read), "start must be at least 0"),
        (lambda read: tree_root(-1, read), "size must be at least 0, not -1"),
        (lambda read: inclusion_proof(8, 8, read), "index 8 is not in a tree of size 8"),
        (lambda read: inclusion_proof(-1, 8, read), "index must be at least 0"),
        (lambda read: inclusion_proof(0, 0, read), "index 0 is not in a tree of size 0"),
        (lambda read: inclusion_proof(True, 8, read), "index must be an integer, not True"),
        (lambda read: consistency_proof(0, 8, read), "first must be at least 1, not 0"),
        (lambda read: consistency_proof(9, 8, read), "first 9 is after second 8"),
        (lambda read: verify_inclusion(8, 8, EMPTY_ROOT, [], EMPTY_ROOT), "index 8 is not in a tree of size 8"),
        (lambda read: verify_inclusion(0, 8, b"", [], EMPTY_ROOT), "leaf must be a 32-byte hash"),
        (lambda read: verify_consistency(0, 8, EMPTY_ROOT, EMPTY_ROOT, []), "first must be at least 1"),
        (lambda read: verify_consistency(9, 8, EMPTY_ROOT, EMPTY_ROOT, []), "first 9 is after second 8"),
        (lambda read: tile_width(64, 0, 8), "level must be between 0 and 63, not 64"),
        (lambda read: tile_width(0, -1, 8), "index must be at least 0"),
        (lambda read: tile_width(0, 0, -8), "size must be at least 0"),
    ],
)
def test_bad_arguments_are_refused_with_a_message_naming_them(rfc_tiles, call, message):
    with pytest.raises(ValueError, match=message):
        call(rfc_tiles.read)


# -- Tile paths --------------------------------------------------------------------


def test_tile_paths_are_c2sps():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 1234067, 5) == "tile/0/x001/x234/067.p/5"
    assert tile_path(0, 1234067, 256) == "tile/0/x001/x234/067"
    assert tile_path("entries", 3) == "tile/entries/003"
    assert tile_path("entries", 3, 255) == "tile/entries/003.p/255"
    assert tile_path(63, 0) == "tile/63/000"
    assert tile_path(1, 1000) == "tile/1/x001/000"
    assert tile_path(2, 999_999) == "tile/2/x999/999"
    assert tile_path(2, 10**12) == "tile/2/x001/x000/x000/x000/000"
    assert parse_tile_path("tile/0/x001/x234/067.p/5") == (0, 1234067, 5)
    assert parse_tile_path("tile/entries/003") == ("entries", 3, None)


def test_tile_paths_round_trip():
    rng = random.Random(8)
    indexes = [
        0,
        1,
        999,
        1000,
        1001,
        999_999,
        1_000_000,
        *(rng.randrange(10 ** rng.randint(1, 15)) for _ in range(200)),
    ]
    for index in indexes:
        for level in (0, 1, 9, 63, "entries"):
            for width in (None, 1, 112, 255):
                assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("tile/00/000", "level"),
        ("tile/01/000", "level"),
        ("tile/64/000", "level 64 is above 63"),
        ("tile/-1/000", "level"),
        ("tile/data/000", "level"),
        ("tile/0/67", "must be three digits"),
        ("tile/0/0067", "must be three digits"),
        ("tile/0/001/234", "'x' and three digits"),
        ("tile/0/x001/x234", "must be three digits"),
        ("tile/0/X001/234", "'x' and three digits"),
        ("tile/0/x000/234", "leading x000"),
        ("tile/0/x1/234", "'x' and three digits"),
        ("tile/0/000.p/0", "width"),
        ("tile/0/000.p/256", "width"),
        ("tile/0/000.p/05", "width"),
        ("tile/0/000.p/", "width"),
        ("tile/0/000.p", "width after .p/"),
        ("tile/0/000.q/5", "three digits"),
        ("tile/0/000/", "'x' and three digits"),
        ("tile/0/", "three digits"),
        ("tile/0", "tile/<L>/<N>"),
        ("tiles/0/000", "tile/<L>/<N>"),
        ("/tile/0/000", "tile/<L>/<N>"),
        ("tile/0/\uff10\uff10\uff10", "three digits"),
        ("tile/8/0/000", "'x' and three digits"),
    ],
)
def test_a_tile_path_not_in_c2sp_form_is_refused(path, problem):
    with pytest.raises(ValueError, match=problem):
        parse_tile_path(path)


def test_a_tile_path_is_not_made_for_impossible_tiles():
    for args in [(64, 0), (-1, 0), ("data", 0), (0, -1), (0, 0, 0), (0, 0, 257), (True, 0)]:
        with pytest.raises(ValueError):
            tile_path(*args)


# -- Go's sumdb/tlog reads our tiles -------------------------------------------------

GO_SOURCE = Path(__file__).parent / "go" / "tlogcheck"
CHECKPOINTS = [1, 255, 256, 257, 1000, 70_000]


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory) -> Path:
    require_go()
    return build_go_program(GO_SOURCE, tmp_path_factory.mktemp("go") / "tlogcheck")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Tiles of a log that grew to 70,000 leaves, as served (C2SP: the full
    tiles, and the partial tiles of each checkpoint), and the requests for
    tlogcheck: for each checkpoint, its root, inclusion and consistency
    proofs."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(CHECKPOINTS[-1])]
    tiles, rng = Tiles(), random.Random(10)
    directory = tmp_path_factory.mktemp("log")
    requests = []
    for size in CHECKPOINTS:
        tiles.grow(leaves[tiles.size : size])
        for (level, index), data in tiles.tiles.items():
            width = tile_width(level, index, size)
            path = directory / tile_path(level, index, width)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data[: width * HASH_SIZE])
        indexes = sorted({0, size - 1, size // 2, *(rng.randrange(size) for _ in range(8))})
        pairs = {(first, size) for first in CHECKPOINTS if first <= size}
        pairs |= {tuple(sorted((rng.randint(1, size), rng.randint(1, size)))) for _ in range(8)}
        root = tree_root(size, tiles.read)
        requests.append(
            {
                "size": size,
                "root": root.hex(),
                "inclusion": [
                    {
                        "index": index,
                        "leaf_hash": leaves[index].hex(),
                        "proof": [p.hex() for p in inclusion_proof(index, size, tiles.read)],
                    }
                    for index in indexes
                ],
                "consistency": [
                    {
                        "first": first,
                        "second": second,
                        "first_root": tree_root(first, tiles.read).hex(),
                        "proof": [p.hex() for p in consistency_proof(first, second, tiles.read)],
                    }
                    for first, second in sorted(pairs)
                ],
            }
        )
    return directory, requests


def run_tlogcheck(program: Path, directory: Path, requests: list, tmp_path: Path) -> subprocess.CompletedProcess:
    request_file = tmp_path / "requests.json"
    request_file.write_text(json.dumps(requests))
    return subprocess.run([program, directory, request_file], capture_output=True, text=True, timeout=60)


def test_go_sumdb_tlog_agrees_with_our_tiles_roots_and_proofs(tlogcheck, published, tmp_path):
    directory, requests = published
    checked = run_tlogcheck(tlogcheck, directory, requests, tmp_path)
    lines = checked.stdout.splitlines()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    expected = sum(1 + len(request["inclusion"]) + len(request["consistency"]) for request in requests)
    assert len(lines) == expected and all(line.startswith("ok ") for line in lines)
    assert "ok   tree 70000 root" in checked.stdout


def tampered_copy(directory: Path, tmp_path: Path, path: str) -> Path:
    """A copy of the tiles in `directory`, with one bit of one hash of `path` changed."""
    tampered = tmp_path / "log"
    shutil.copytree(directory, tampered)
    data = bytearray((tampered / path).read_bytes())
    data[7] ^= 0x40
    (tampered / path).write_bytes(bytes(data))
    return tampered


def test_go_sumdb_tlog_refuses_a_tampered_tile(tlogcheck, published, tmp_path):
    directory, requests = published
    # A partial tile under the root of 70,000: tlog's TileHashReader refuses it.
    tampered = tampered_copy(directory, tmp_path, tile_path(0, 273, 112))
    checked = run_tlogcheck(tlogcheck, tampered, [requests[-1]], tmp_path)
    assert checked.returncode == 1
    assert "FAIL tree 70000" in checked.stdout and "downloaded inconsistent tile" in checked.stdout

    # The full tile holding leaf 35,000. This tlog version authenticates the
    # tiles it reads after those of the tree hash from position len(stx) (6
    # subtrees for 70,000) although it listed only 3 tiles for them, so it
    # does not notice this one; the proof it computes then differs from ours.
    shutil.rmtree(tampered)
    tampered = tampered_copy(directory, tmp_path, tile_path(0, 35000 // TILE_WIDTH))
    checked = run_tlogcheck(tlogcheck, tampered, [requests[-1]], tmp_path)
    assert checked.returncode == 1
    assert "ok   tree 70000" in checked.stdout
    assert "FAIL inclusion of 35000 in 70000: tlog.CheckRecord, tlog.ProveRecord: ProveRecord gives" in checked.stdout


def test_go_sumdb_tlog_refuses_a_tampered_proof_or_root(tlogcheck, published, tmp_path):
    directory, requests = published
    request = json.loads(json.dumps(requests[-2]))  # size 1000
    proof = request["inclusion"][1]["proof"]
    proof[2] = proof[2][:10] + ("0" if proof[2][10] != "0" else "1") + proof[2][11:]
    checked = run_tlogcheck(tlogcheck, directory, [request], tmp_path)
    assert checked.returncode == 1
    assert checked.stdout.count("FAIL") == 1
    assert f"FAIL inclusion of {request['inclusion'][1]['index']} in 1000" in checked.stdout
    assert "CheckRecord: invalid transparency proof" in checked.stdout

    request = json.loads(json.dumps(requests[-2]))
    request["root"] = requests[-3]["root"]
    checked = run_tlogcheck(tlogcheck, directory, [request], tmp_path)
    assert checked.returncode == 1
    assert "FAIL tree 1000" in checked.stdout


def test_without_go_the_go_tests_skip_naming_what_is_missing_or_fail_under_require_go(monkeypatch, tmp_path):
    monkeypatch.setattr(golang, "GOCODE", tmp_path)
    monkeypatch.delenv("REQUIRE_GO", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"golang.org/x/mod/sumdb/tlog is not under {tmp_path}/src"):
        require_go()
    monkeypatch.setenv("REQUIRE_GO", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_GO=1, but golang.org/x/mod/sumdb/tlog is not under"):
        require_go()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="the go command is not on PATH"):
        require_go()
