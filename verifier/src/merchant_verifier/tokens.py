"""Strict parsing of a compact JWS credential (DESIGN §4, §5; RFC 7515, RFC
8725). Structural failures are returned as a `Rejected` result, never raised.

Parsing is hand-written rather than left to PyJWT because the contract asks
for more than PyJWT checks (duplicate member names, non-finite numbers,
canonical base64url) and because the header and claims are needed to find the
key before the signature is verified: parsing once serves both.

It is also cheaper than the obvious spelling, because it runs on every
verification: base64url is decoded by binascii's strict mode after a
byte translation (no regular expression, no re-encoding to check the trailing
bits), the JSON decoder is built once and its scanner called directly, a
key's header (the same on every credential it signs) is decoded and checked
once, and the walk looking for U+0000 and lone surrogates runs only when
the text has a `\\u` escape, the only way either can reach a parsed string.
A test checks every result and every message against the straightforward
version and against PyJWT on the same inputs.
"""

import binascii
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from merchant_verifier.algorithms import ACCEPTED_TYPS, ALLOWED_ALGS, UNTRUSTED_HEADERS
from merchant_verifier.reasons import Reason

STRING_HEADERS = ("alg", "typ", "kid")
# base64url to standard base64; "+", "/" and "=" are not base64url, so they
# become a character that binascii's strict mode refuses.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
# The last character of a segment of length 2 or 3 (mod 4) carries 4 or 2
# unused bits, which must be zero: these are the characters that have them so.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
# The padding binascii's strict mode wants, by the length mod 4 (1 is refused there).
_PADDING = (b"", b"===", b"==", b"=")


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str


class ParsedToken(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return self.header["alg"]

    @property
    def kid(self) -> str:
        return self.header["kid"]


class _Malformed(ValueError):
    pass


def repeated_name(pairs: list[tuple[str, Any]]) -> str:
    """The first name in `pairs` that repeats an earlier one (there is one).
    Duplicate member names are refused (RFC 7493 §2.3): parsers differ on
    which one wins (RFC 8259 §4), which is how a check is slipped past."""
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            return name
        seen.add(name)
    raise ValueError("no member name repeats")


def _b64url(segment: str, name: str) -> bytes:
    """Unpadded base64url (RFC 7515 §2) of one spelling only. The caller has
    checked that the token is ASCII."""
    data = segment.encode("ascii").translate(_TO_STANDARD)
    try:
        raw = binascii.a2b_base64(data + _PADDING[len(data) % 4], strict_mode=True)
    except binascii.Error:
        raise _Malformed(f"the {name} is not unpadded base64url") from None
    if not segment:
        raise _Malformed(f"the {name} is not unpadded base64url")
    # Canonical trailing bits: a token has exactly one spelling (and its hash
    # identifies it).
    rest = len(segment) % 4
    if rest and segment[-1] not in _CANONICAL_LAST[rest]:
        raise _Malformed(f"the {name} has non-canonical base64url trailing bits")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Malformed(f"duplicate member name {repeated_name(pairs)!r}")
    return result


def _no_constants(name: str) -> Any:
    raise _Malformed(f"non-finite number {name}")


def _finite(text: str, parse: type[int] | type[float]) -> int | float:
    # 1e400 parses to inf and 10**400 cannot become a NumericDate: a number
    # outside IEEE 754 double range is non-finite here (RFC 7493 §2.2).
    value = parse(text)
    try:
        if math.isfinite(float(value)):
            return value
    except OverflowError:
        pass
    raise _Malformed("a number is outside the IEEE 754 double range")


def _integer(text: str) -> int:
    # Fewer than 16 characters: well inside a double's range.
    return int(text) if len(text) < 16 else _finite(text, int)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_no_constants,
    parse_float=lambda number: _finite(number, float),
    parse_int=_integer,
)
_SCAN = _DECODER.scan_once


def _check_strings(value: Any, name: str) -> None:
    """No U+0000 and no unpaired surrogate anywhere (RFC 7493 §2.1): neither
    is in a legitimate credential, and no database text column can hold them."""
    pending = [value]
    while pending:  # iterative: the depth is already bounded by json.loads
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise _Malformed(f"the {name} has a U+0000 character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise _Malformed(f"the {name} has an unpaired surrogate") from None


def _json_object(raw: bytes, name: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        # The scanner itself, as JSONDecoder.decode calls it, when the value
        # spans the whole text (no surrounding whitespace: every credential
        # issued is so); otherwise decode() itself, which says what is wrong.
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except UnicodeDecodeError:
        raise _Malformed(f"the {name} is not UTF-8") from None
    except RecursionError:
        raise _Malformed(f"the {name} nests too deeply") from None
    except ValueError as exc:
        if isinstance(exc, _Malformed):
            raise
        raise _Malformed(f"the {name} is not JSON") from None
    if not isinstance(value, dict):
        raise _Malformed(f"the {name} is not a JSON object")
    # Strict UTF-8 has no surrogates and strict JSON no raw control
    # characters: without a \u escape in the text, neither can be in a string.
    if b"\\u" in raw:
        _check_strings(value, name)
    return value


def parse_token(token: str, *, max_bytes: int) -> ParsedToken | Rejected:
    """Parse and check the structure and header of a credential, in the order
    of DESIGN §5, stopping at the first failure."""
    # Checked before any parsing: the cap bounds every later step's cost.
    # An ASCII string's UTF-8 length is its length (str.isascii reads a flag).
    if len(token) > max_bytes or (not token.isascii() and len(token.encode("utf-8", "surrogatepass")) > max_bytes):
        return Rejected(Reason.TOKEN_TOO_LARGE, f"the token is longer than {max_bytes} bytes")
    try:
        header, parsed = _parse_structure(token)
    except _Malformed as exc:
        return Rejected(Reason.MALFORMED_TOKEN, str(exc))
    return header.rejected or parsed


class _Header(NamedTuple):
    """A decoded header and what is wrong with it: `malformed`, a member
    that must be a string and is not (raised once the rest of the token is
    parsed, where the straightforward order meets it); `rejected`, the first
    header check that fails (_check_header)."""

    value: dict[str, Any]
    malformed: str | None
    rejected: Rejected | None


def _parse_structure(token: str) -> tuple[_Header, ParsedToken]:
    if not token.isascii():
        raise _Malformed("the token has non-ASCII characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise _Malformed(f"a compact JWS has 3 parts, not {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    header = _header(header_b64)
    claims = _json_object(_b64url(payload_b64, "payload"), "payload")
    signature = _b64url(signature_b64, "signature")
    if header.malformed:
        raise _Malformed(header.malformed)
    signing_input = token[: len(token) - len(signature_b64) - 1].encode("ascii")
    # A copy of the header: a cached one is never handed out.
    return header, ParsedToken(dict(header.value), claims, signing_input, signature)


# Every credential a key signs has the same header: a short one is decoded
# and checked once per spelling (a bounded cache: at most 1,024 of at most
# 512 characters).
_CACHED_HEADER_LENGTH = 512


def _examined_header(segment: str) -> _Header:
    header = _json_object(_b64url(segment, "header"), "header")
    for member in STRING_HEADERS:
        if member in header and not isinstance(header[member], str):
            return _Header(header, f"header member {member!r} must be a string", None)
    return _Header(header, None, _check_header(header))


_cached_header = lru_cache(maxsize=1024)(_examined_header)


def _header(segment: str) -> _Header:
    if len(segment) <= _CACHED_HEADER_LENGTH:
        return _cached_header(segment)
    return _examined_header(segment)


def _check_header(header: dict[str, Any]) -> Rejected | None:
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        # Exact, case-sensitive match (RFC 8725 §3.1): "none", "None", "HS256"
        # and everything else outside the allow-list are refused here.
        shown = "missing" if alg is None else repr(alg)[:40]
        return Rejected(Reason.UNSUPPORTED_ALGORITHM, f"alg {shown} is not allowed")
    typ = header.get("typ")
    if typ is None or typ.lower() not in ACCEPTED_TYPS:
        # RFC 8725 §3.11 explicit typing; RFC 7515 §4.1.9 lets the
        # "application/" prefix be omitted and compares case-insensitively.
        return Rejected(Reason.WRONG_TOKEN_TYPE, "typ must be merchant-credential+jwt")
    present = [member for member in UNTRUSTED_HEADERS if member in header]
    if present:
        return Rejected(
            Reason.UNTRUSTED_HEADER,
            f"header members {', '.join(present)} are not accepted; keys come only from the registry",
        )
    if not header.get("kid"):
        return Rejected(Reason.MISSING_KID, "the header has no kid")
    return None
