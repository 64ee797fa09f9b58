"""Signed notes, checkpoints and cosignatures, as C2SP specifies them.

- c2sp.org/signed-note: a text ending in a newline, a blank line, then one
  or more lines "— <key name> base64(key ID || signature)". Verifier keys
  (vkeys) are "<name>+<hex key ID>+base64(type || public key)".
- c2sp.org/tlog-checkpoint: the note text of a log's tree head, three lines
  (origin, tree size, base64 root hash) and optional extension lines.
- c2sp.org/tlog-cosignature: a witness's timestamped Ed25519 signature
  (type 0x04) over "cosignature/v1\\ntime <t>\\n" and the checkpoint.

Pure Python: no Django, no database. Every refusal is a NoteError naming
what is wrong; nothing the input contains raises anything else.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # signed-note §Signature types: Ed25519 over the note text
COSIGNATURE_V1 = 0x04  # tlog-cosignature: timestamped Ed25519 witness cosignature

# signed-note §Format: verifiers SHOULD cap a note's signatures or size (at
# least 16 signatures must pass); Go's note.Open stops at 100 signatures.
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
# tlog-cosignature §Format: the timestamp MUST NOT exceed 2^63 - 1. Tree sizes
# get the same bound, the int64 of Go's tlog and of most log implementations.
MAX_TIMESTAMP = (1 << 63) - 1
MAX_TREE_SIZE = (1 << 63) - 1

_KNOWN_TYPES = {ED25519: "Ed25519", COSIGNATURE_V1: "cosignature/v1"}
_ED25519_KEY_BYTES = 32
_ED25519_SIGNATURE_BYTES = 64
_TIMESTAMP_BYTES = 8
_ROOT_BYTES = 32
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII digits only, unlike \d


class NoteError(ValueError):
    """A note, vkey, checkpoint or signature is refused; the message says why."""


@dataclass(frozen=True)
class Verifier:
    """A known public key (signed-note §Verifier keys), as parse_vkey gives it.

    Construction checks it: a known signature type, a 32-byte Ed25519 key and
    the key ID derived from the name, type and key (signed-note §Signatures)."""

    name: str
    key_id: bytes
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        if type(self.sig_type) is not int or self.sig_type not in _KNOWN_TYPES:
            raise NoteError(f"unknown signature type {self.sig_type!r}: known are 0x01 and 0x04")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != _ED25519_KEY_BYTES:
            size = len(self.public_key) if isinstance(self.public_key, bytes) else type(self.public_key).__name__
            raise NoteError(f"an Ed25519 public key is 32 bytes, not {size}")
        expected = key_id(self.name, self.sig_type, self.public_key)
        if self.key_id != expected:
            shown = self.key_id.hex() if isinstance(self.key_id, bytes) else repr(self.key_id)
            raise NoteError(f"key ID {shown} does not match the name and key of {self.name}: it is {expected.hex()}")


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: who claims to sign and the signature bytes
    after the 4-byte key ID (signed-note §Signatures)."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head (tlog-checkpoint §Note text)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4]
    (signed-note §Signatures; tlog-cosignature §Format for type 0x04)."""
    _check_name(name)
    if type(sig_type) is not int or not 0 <= sig_type <= 0xFF:
        raise NoteError(f"a signature type is one byte, not {sig_type!r}")
    if not isinstance(public_key, bytes):
        raise NoteError(f"a public key is bytes, not {type(public_key).__name__}")
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def vkey(name: str, public_key: bytes, sig_type: int = ED25519) -> str:
    """The verifier key "<name>+<hex key ID>+<base64(type || key)>"
    (signed-note §Verifier keys; tlog-cosignature §Format for type 0x04)."""
    verifier = Verifier(name, key_id(name, sig_type, public_key), sig_type, public_key)
    encoded = base64.b64encode(bytes([sig_type]) + verifier.public_key).decode()
    return f"{name}+{verifier.key_id.hex()}+{encoded}"


def parse_vkey(text: str) -> Verifier:
    """The Verifier a vkey names, checked: a valid name, 8 lowercase hex digits
    of key ID, canonical base64 of a known type byte and a 32-byte key, and a
    key ID that is the one the name, type and key give (signed-note §Verifier keys)."""
    if not isinstance(text, str):
        raise NoteError(f"a vkey is a str, not {type(text).__name__}")
    name, plus, rest = text.partition("+")
    key_id_hex, plus_again, key_base64 = rest.partition("+")
    if not plus or not plus_again:
        raise NoteError("a vkey has three parts, <name>+<key ID>+<key>, separated by '+'")
    _check_name(name)
    if not _KEY_ID_HEX.fullmatch(key_id_hex):
        raise NoteError(f"the key ID of a vkey is 8 lowercase hex digits, not {key_id_hex!r}")
    raw = _decode_base64(key_base64, "the key of the vkey")
    if not raw:
        raise NoteError("the vkey has no key after its key ID")
    sig_type, public_key = raw[0], raw[1:]
    if sig_type not in _KNOWN_TYPES:
        raise NoteError(f"the vkey's signature type 0x{sig_type:02x} is unknown: known are 0x01 and 0x04")
    if len(public_key) != _ED25519_KEY_BYTES:
        raise NoteError(f"the vkey's Ed25519 public key is {len(public_key)} bytes, not 32")
    return Verifier(name, bytes.fromhex(key_id_hex), sig_type, public_key)


def signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The line "— <name> base64(key ID || Ed25519 signature of text)\\n" (signed-note
    §Ed25519 signatures); a note gathers several below its blank line."""
    message = _note_text(text)
    public_key = _public_key_of(private_key)
    return _line(name, key_id(name, ED25519, public_key) + private_key.sign(message))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: the text (ending in a newline), a blank line and the
    signature line (signed-note §Format)."""
    line = signature_line(text, name, private_key)  # checks the text first
    note = text + "\n" + line
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError(f"the signed note would be over {MAX_NOTE_BYTES} bytes")
    return note


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """The text of a note and its signature lines, unverified (signed-note §Format).

    The note is UTF-8 of at most 1 MiB, without ASCII control characters
    other than newline; its last blank line separates the text (which keeps
    its final newline) from at most 100 lines "— <name> <base64>", each ending
    in a newline. Signatures are not checked here; see verify_note."""
    if isinstance(note, bytes):
        decoded = decode_utf8(note, MAX_NOTE_BYTES, "the note")
    elif isinstance(note, str):
        if len(note) > MAX_NOTE_BYTES or len(_utf8(note, "the note")) > MAX_NOTE_BYTES:
            raise NoteError(f"the note is over the limit of {MAX_NOTE_BYTES} bytes")
        decoded = note
    else:
        raise NoteError(f"a note is str or bytes, not {type(note).__name__}")
    _check_controls(decoded, "the note")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block:
        raise NoteError("the note has no signature lines after its last blank line")
    if not block.endswith("\n"):
        raise NoteError("the note does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has {len(lines)} signature lines, over the limit of {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line, number) for number, line in enumerate(lines, 1)]


def verify_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[Verifier]]:
    """The note's text and the given verifiers whose signatures on it verify,
    each once, in the order their signatures first appear.

    signed-note §Signatures: a signature whose (name, key ID) is not a given
    verifier's is ignored, even if the name or the ID alone matches; one that
    is a verifier's must verify, else the whole note is refused; a note with
    no verified signature is refused. A verifier of type 0x04 checks a
    tlog-cosignature (§Ed25519 signed message) over the note text."""
    text, signatures = split_note(note)
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, Verifier):
            raise NoteError(f"a verifier is a Verifier (see parse_vkey), not {type(verifier).__name__}")
        if known.setdefault((verifier.name, verifier.key_id), verifier) != verifier:
            raise NoteError(f"two different keys have the name and key ID {verifier.name}+{verifier.key_id.hex()}")
    message = text.encode()
    verified: list[Verifier] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not _verifies(verifier, message, signature.signature):
            raise NoteError(f"the signature by {signature.name}+{signature.key_id.hex()} does not verify")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise NoteError(f"none of the note's {len(signatures)} signatures is by one of the {len(known)} known keys")
    return text, verified


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The note text of a checkpoint, "<origin>\\n<size>\\n<base64 root>\\n"
    (tlog-checkpoint §Note text)."""
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise NoteError(f"a checkpoint's origin is a non-empty line of text, not {origin!r}")
    if type(size) is not int or not 0 <= size <= MAX_TREE_SIZE:
        raise NoteError(f"a tree size is a whole number from 0 to 2^63 - 1, not {size!r}")
    if not isinstance(root, bytes) or len(root) != _ROOT_BYTES:
        raise NoteError(f"a root hash is 32 bytes, not {len(root) if isinstance(root, bytes) else repr(root)}")
    text = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    parse_checkpoint(text)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note text holds (tlog-checkpoint §Note text): a
    non-empty origin; the tree size in decimal without leading zeros (0 for
    the empty tree); the root hash, canonical base64 of exactly 32 bytes;
    then extension lines, none empty."""
    _note_text(text)
    origin, *rest = text[:-1].split("\n")
    if len(rest) < 2:
        raise NoteError(f"a checkpoint has at least three lines (origin, size, root hash), this has {len(rest) + 1}")
    size_line, root_line, *extensions = rest
    if not origin:
        raise NoteError("the checkpoint's origin line is empty")
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > MAX_TREE_SIZE:
        raise NoteError(f"the tree size {size_line!r} is not a decimal up to 2^63 - 1 without leading zeros")
    root = _decode_base64(root_line, "the root hash")
    if len(root) != _ROOT_BYTES:
        raise NoteError(f"the root hash is {len(root)} bytes, not 32")
    for number, extension in enumerate(extensions, 4):
        if not extension:
            raise NoteError(f"extension line {number} of the checkpoint is empty")
    return Checkpoint(origin, int(size_line), root, tuple(extensions))


def cosignature_line(checkpoint: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature line on a checkpoint (tlog-cosignature §Format,
    §Ed25519 signed message): "— <name> base64(key ID || timestamp as a
    big-endian uint64 || Ed25519 signature)\\n", the key ID of type 0x04, the
    signature over "cosignature/v1\\ntime <timestamp>\\n" and the checkpoint text
    (extension lines included)."""
    parse_checkpoint(checkpoint)
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"a cosignature's timestamp is POSIX seconds from 0 to 2^63 - 1, not {timestamp!r}")
    public_key = _public_key_of(private_key)
    signature = private_key.sign(_cosigned_message(timestamp, checkpoint.encode()))
    return _line(name, key_id(name, COSIGNATURE_V1, public_key) + timestamp.to_bytes(8, "big") + signature)


def cosignature_timestamp(signature: Signature) -> int:
    """The POSIX time a cosignature/v1 signature states (tlog-cosignature
    §Format: timestamped_signature). It is not verified here: use verify_note."""
    raw = signature.signature
    if len(raw) != _TIMESTAMP_BYTES + _ED25519_SIGNATURE_BYTES:
        raise NoteError(f"a cosignature/v1 signature is 72 bytes (timestamp and Ed25519 signature), not {len(raw)}")
    timestamp = int.from_bytes(raw[:_TIMESTAMP_BYTES], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError(f"the cosignature's timestamp {timestamp} is over 2^63 - 1")
    return timestamp


def _cosigned_message(timestamp: int, checkpoint: bytes) -> bytes:
    # tlog-cosignature §Ed25519 signed message: the timestamp in ASCII decimal.
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint


def _verifies(verifier: Verifier, message: bytes, signature: bytes) -> bool:
    if verifier.sig_type == COSIGNATURE_V1:
        if len(signature) != _TIMESTAMP_BYTES + _ED25519_SIGNATURE_BYTES:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_BYTES], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message, signature = _cosigned_message(timestamp, message), signature[_TIMESTAMP_BYTES:]
    if len(signature) != _ED25519_SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _parse_signature_line(line: str, number: int) -> Signature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(f"signature line {number} does not start with an em dash (U+2014) and a space")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteError(f"signature line {number} has no space between the key name and the signature")
    _check_name(name, f"the key name of signature line {number}")
    raw = _decode_base64(encoded, f"the signature of line {number}")
    if len(raw) < 5:
        raise NoteError(f"the signature of line {number} is {len(raw)} bytes: a key ID and a signature are at least 5")
    return Signature(name, raw[:4], raw[4:])


def _line(name: str, raw: bytes) -> str:
    return f"{_SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}\n"


def _note_text(text: str) -> bytes:
    """The UTF-8 of a note text, checked (signed-note §Format)."""
    if not isinstance(text, str):
        raise NoteError(f"a note text is a str, not {type(text).__name__}")
    if not text.endswith("\n"):
        raise NoteError("a note text ends in a newline")
    data = _utf8(text, "the note text")
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError(f"the note text is {len(data)} bytes, over the limit of {MAX_NOTE_BYTES}")
    _check_controls(text, "the note text")
    return data


def _check_name(name: str, what: str = "the key name") -> None:
    """signed-note §Format: non-empty, no Unicode spaces, no plus."""
    if not isinstance(name, str):
        raise NoteError(f"{what} is a str, not {type(name).__name__}")
    if not name:
        raise NoteError(f"{what} is empty")
    if "+" in name:
        raise NoteError(f"{what} {name!r} contains a plus")
    if any(character.isspace() for character in name):
        raise NoteError(f"{what} {name!r} contains a space")
    _check_controls(name, what)
    _utf8(name, what)


def _check_controls(text: str, what: str) -> None:
    found = _CONTROL.search(text)
    if found:
        raise NoteError(f"{what} has the control character U+{ord(found.group()):04X} at position {found.start()}")


def decode_utf8(data: bytes, limit: int, what: str) -> str:
    """Bytes received, refused over `limit` or when not UTF-8, as text."""
    if len(data) > limit:
        raise NoteError(f"{what} is {len(data)} bytes, over the limit of {limit}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{what} is not UTF-8 (byte {exc.start})") from None


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"{what} cannot be UTF-8: a lone surrogate at position {exc.start}") from None


def _decode_base64(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padded and canonical (§3.5: no stray
    bits), so one value has one spelling and a line cannot be rewritten into
    another that means the same."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise NoteError(f"{what} is not canonical base64 (stray bits or padding)")
    return raw


def _public_key_of(private_key: Ed25519PrivateKey) -> bytes:
    if not isinstance(private_key, Ed25519PrivateKey):
        raise NoteError(f"the signing key is an Ed25519 private key, not {type(private_key).__name__}")
    return private_key.public_key().public_bytes_raw()
