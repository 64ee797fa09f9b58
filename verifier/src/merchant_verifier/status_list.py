"""Token Status Lists (draft-ietf-oauth-status-list-20 §4): the packed
bytes, their `lst` encoding, and reading one entry.

Entry i of a list of `bits` bits per entry is in byte i * bits // 8, at bit
offset (i * bits) % 8 counted from the least significant bit. `lst` is the
base64url (no padding) of the ZLIB (RFC 1950) compressed bytes.

A list comes from the network: decoding refuses what is not exactly this,
and inflates at most `max_bytes`, so that a `lst` of a few kilobytes that
inflates to gigabytes costs a few kilobytes of memory.
"""

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any

VALID, INVALID, SUSPENDED = 0, 1, 2
BITS = (1, 2, 4, 8)
# 32 Mi entries at 2 bits: far above any list the registry serves (its
# default is 1 Mi entries, 256 KiB), far below what would hurt a verifier.
MAX_BYTES = 8 * 1024 * 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class StatusListError(ValueError):
    """A status list that cannot be read; the message says why."""


def new_list(size: int, bits: int = 2) -> bytearray:
    """The packed bytes of `size` entries, all VALID (0)."""
    if bits not in BITS:
        raise StatusListError(f"bits must be one of {BITS}, not {bits!r}")
    if size <= 0 or (size * bits) % 8:
        raise StatusListError(f"a list of {bits}-bit entries holds a multiple of {8 // bits} entries, not {size}")
    return bytearray(size * bits // 8)


def set_status(packed: bytearray, index: int, value: int, bits: int = 2) -> None:
    mask = (1 << bits) - 1
    if not 0 <= value <= mask:
        raise StatusListError(f"a {bits}-bit status is between 0 and {mask}, not {value}")
    _check_index(packed, index, bits)
    byte, shift = divmod(index * bits, 8)
    packed[byte] = (packed[byte] & ~(mask << shift) & 0xFF) | (value << shift)


def get_status(packed: bytes, index: int, bits: int = 2) -> int:
    _check_index(packed, index, bits)
    byte, shift = divmod(index * bits, 8)
    return (packed[byte] >> shift) & ((1 << bits) - 1)


def _check_index(packed: bytes, index: int, bits: int) -> None:
    size = len(packed) * 8 // bits
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise StatusListError(f"index {index!r} is outside the list (0 to {size - 1})")


def encode_lst(packed: bytes) -> str:
    # zlib's default level: a list of a million entries at 2 bits compresses in
    # milliseconds, to within a fifth of what level 9 gives in a second.
    return base64.urlsafe_b64encode(zlib.compress(bytes(packed), 6)).rstrip(b"=").decode("ascii")


def decode_lst(lst: Any, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The packed bytes of `lst`, refusing anything but canonical base64url
    of one complete ZLIB stream that inflates to at most `max_bytes`."""
    if not isinstance(lst, str) or not lst:
        raise StatusListError("lst must be a non-empty string")
    if not _BASE64URL.fullmatch(lst) or len(lst) % 4 == 1:
        raise StatusListError("lst is not base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))
    except (binascii.Error, ValueError) as error:
        raise StatusListError("lst is not base64url without padding") from error
    inflater = zlib.decompressobj()
    try:
        packed = inflater.decompress(compressed, max_bytes)
    except zlib.error as error:
        raise StatusListError(f"lst is not ZLIB data ({error})") from error
    if inflater.unconsumed_tail:
        raise StatusListError(f"lst inflates to more than {max_bytes} bytes")
    if not inflater.eof:
        raise StatusListError("lst is a truncated ZLIB stream")
    if inflater.unused_data:
        raise StatusListError("lst has data after its ZLIB stream")
    if not packed:
        raise StatusListError("lst holds no entries")
    return packed


@dataclass(frozen=True)
class StatusList:
    """A decoded `status_list` claim."""

    bits: int
    packed: bytes

    @classmethod
    def from_claim(cls, claim: Any, *, max_bytes: int = MAX_BYTES) -> "StatusList":
        if not isinstance(claim, dict):
            raise StatusListError("status_list must be an object")
        bits = claim.get("bits")
        if isinstance(bits, bool) or bits not in BITS:
            raise StatusListError(f"status_list.bits must be one of {', '.join(map(str, BITS))}")
        return cls(bits=bits, packed=decode_lst(claim.get("lst"), max_bytes=max_bytes))

    @property
    def size(self) -> int:
        return len(self.packed) * 8 // self.bits

    def status(self, index: int) -> int:
        return get_status(self.packed, index, self.bits)
