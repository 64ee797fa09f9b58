"""A small transparency log in memory, signed with a key made for the test:
its tiles in a dict (recognition/log/tree.py builds them and the proofs),
its checkpoints signed as the registry signs them, and the add-checkpoint
requests a registry would send a witness."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recognition.log.notes import COSIGNATURE_V1, checkpoint_text, key_id, sign_note, signature_line, vkey
from recognition.log.tree import EMPTY_ROOT, append, consistency_proof, leaf_hash, tree_root
from recognition.log.witnessing import request_body
from witness.server import Witness, trusted_logs
from witness.state import State

NOW = 1_790_000_000  # the witnesses' clock


class SignedLog:
    def __init__(self, origin: str = "registry.example/log", key: Ed25519PrivateKey | None = None) -> None:
        self.origin = origin
        self.key = key or Ed25519PrivateKey.generate()
        self.tiles: dict[tuple[int, int], bytes] = {}
        self.size = 0

    @property
    def vkey(self) -> str:
        return vkey(self.origin, self.key.public_key().public_bytes_raw())

    def read(self, level: int, index: int) -> bytes:
        return self.tiles.get((level, index), b"")

    def grow(self, count: int, tag: str = "") -> "SignedLog":
        leaves = [leaf_hash(f"{tag}entry {self.size + n}".encode()) for n in range(count)]
        self.tiles.update(append(self.size, leaves, self.read))
        self.size += count
        return self

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return tree_root(size, self.read) if size else EMPTY_ROOT

    def text(self, size: int | None = None) -> str:
        return checkpoint_text(self.origin, self.size if size is None else size, self.root(size))

    def checkpoint(self, size: int | None = None, *also: Ed25519PrivateKey) -> str:
        """The signed checkpoint of `size` leaves (default: all), signed by
        this log's key and then by `also`, each under the log's name."""
        text = self.text(size)
        return sign_note(text, self.origin, self.key) + "".join(signature_line(text, self.origin, key) for key in also)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return consistency_proof(old, new, self.read) if old else []

    def request(self, old: int, new: int | None = None) -> bytes:
        """What a registry sends a witness that holds size `old`."""
        return request_body(old, self.proof(old, new), self.checkpoint(new))


def forked(log: SignedLog, at: int, count: int) -> SignedLog:
    """The same log key and origin with a different history after `at`
    leaves: what a rolled-back registry would sign."""
    fork = SignedLog(log.origin, log.key)
    fork.grow(at)
    fork.grow(count, tag="fork ")
    return fork


def make_witness(tmp_path, *logs: SignedLog, vkeys: list[str] | None = None) -> Witness:
    """A witness of `logs` (or of the log keys `vkeys`) with a new key, its
    state in `tmp_path`, its clock stopped at NOW."""
    key = Ed25519PrivateKey.generate()
    name = "witness.example/cn"
    public = key.public_key().public_bytes_raw()
    state, _ = State.open(
        tmp_path / "state.db",
        key_id=key_id(name, COSIGNATURE_V1, public).hex(),
        vkey=vkey(name, public, COSIGNATURE_V1),
        may_create=True,
        reset=False,
    )
    trusted = trusted_logs(vkeys if vkeys is not None else [log.vkey for log in logs])
    return Witness(name=name, private_key=key, logs=trusted, state=state, clock=lambda: NOW)
