"""The straightforward spellings of what the hot path hand-writes,
kept as oracles: the tests compare each hand-written piece with these on the
same inputs, and the benchmark measures what each one saves.

- `parse_token`: the token parser as first written (a regular expression,
  base64 decode and re-encode, json.loads with its hooks, the string walk on
  every token). merchant_verifier.tokens keeps its checks, order and
  messages, and reuses everything but these functions.
- `party`: the merchant and credential look-up through the ORM, one query
  per token, as the verification made it before.
"""

import base64
import binascii
import json
import re
from typing import Any

from django.db.models import FilteredRelation, OuterRef, Q, Subquery

from identity.models import Authority, IssuedCredential
from identity.reasons import Reason
from merchant_verifier import tokens as fast
from merchant_verifier.tokens import ParsedToken, Rejected
from recognition.snapshots import Party, Wanted

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
Malformed = fast._Malformed  # noqa: SLF001 (the oracle shares the module's error type)


def b64url(segment: str, name: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise Malformed(f"the {name} is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise Malformed(f"the {name} is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise Malformed(f"the {name} has non-canonical base64url trailing bits")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise Malformed(f"duplicate member name {name!r}")
        result[name] = value
    return result


def json_object(raw: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=fast._no_constants,  # noqa: SLF001
            parse_float=lambda number: fast._finite(number, float),  # noqa: SLF001
            parse_int=lambda number: fast._finite(number, int),  # noqa: SLF001
        )
    except UnicodeDecodeError:
        raise Malformed(f"the {name} is not UTF-8") from None
    except RecursionError:
        raise Malformed(f"the {name} nests too deeply") from None
    except ValueError as exc:
        if isinstance(exc, Malformed):
            raise
        raise Malformed(f"the {name} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"the {name} is not a JSON object")
    fast._check_strings(value, name)  # noqa: SLF001
    return value


def parse_token(token: str, *, max_bytes: int) -> ParsedToken | Rejected:
    if len(token) > max_bytes or len(token.encode("utf-8", "surrogatepass")) > max_bytes:
        return Rejected(Reason.TOKEN_TOO_LARGE, f"the token is longer than {max_bytes} bytes")
    try:
        if not token.isascii():
            raise Malformed("the token has non-ASCII characters")
        parts = token.split(".")
        if len(parts) != 3:
            raise Malformed(f"a compact JWS has 3 parts, not {len(parts)}")
        header_b64, payload_b64, signature_b64 = parts
        header = json_object(b64url(header_b64, "header"), "header")
        claims = json_object(b64url(payload_b64, "payload"), "payload")
        signature = b64url(signature_b64, "signature")
        for member in fast.STRING_HEADERS:
            if member in header and not isinstance(header[member], str):
                raise Malformed(f"header member {member!r} must be a string")
    except Malformed as exc:
        return Rejected(Reason.MALFORMED_TOKEN, str(exc))
    parsed = ParsedToken(header, claims, f"{header_b64}.{payload_b64}".encode("ascii"), signature)
    return fast._check_header(header) or parsed  # noqa: SLF001


def party(wanted: Wanted) -> Party | None:
    """The merchant `sub` of the authority `issuer` and the status of its
    credential `jti`, through the ORM; None when no authority has the issuer."""
    credential = IssuedCredential.objects.filter(merchant__authority_id=OuterRef("pk"), jti=wanted.jti)
    row = (
        Authority.objects.filter(issuer=wanted.issuer)
        .annotate(
            found=FilteredRelation("merchants", condition=Q(merchants__registration_number=wanted.sub)),
            credential_status=Subquery(credential.values("status")[:1]),
        )
        .values("found__registration_number", "found__legal_name", "found__status", "credential_status")
        .first()
    )
    return Party(*row.values()) if row is not None else None
