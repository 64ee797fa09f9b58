"""The registry's signed lists as a verifier reads them: the registry's JWK
Set, and one compact JWS checked against it (RFC 7515, RFC 8725).

Every list is checked before it is kept, whether it came from the network
or from a directory: its header `typ` (explicit typing, RFC 8725 §3.11), a
`kid` found in the registry's JWK Set, the signature with that key and the
key's own `alg` (ES256 or EdDSA only, never the header's choice alone),
then the payload's `iss`, `sub`, `iat` and `exp`. A list past its `exp` is
kept (it is refused when used: `lists_expired`); a list that fails any other
check is not.
"""

import json
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.exceptions import InvalidSignatureError, PyJWKError, PyJWTError

ALLOWED_ALGS = frozenset({"ES256", "EdDSA"})
TRUST_LIST = "trust-list+jwt"
STATUS_LIST = "statuslist+jwt"
MERCHANT_STATUS = "merchant-status+jwt"


class ListError(Exception):
    """A list that cannot be used. `code` is `lists_unavailable` or
    `lists_expired`; the message names the list and the reason."""

    def __init__(self, code: str, detail: str, *, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.http_status = http_status  # the registry's answer, when it gave one


def unavailable(detail: str) -> ListError:
    return ListError("lists_unavailable", detail)


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise unavailable(f"{what} is not JSON") from None


@dataclass(frozen=True)
class RegistryKeys:
    """The registry's JWK Set (/.well-known/jwks.json): the keys its lists
    are signed with, parsed once, by kid."""

    keys: dict[str, tuple[str, Any]]  # kid -> (alg, public key object)

    @classmethod
    def parse(cls, raw: bytes) -> "RegistryKeys":
        document = _json(raw, "the registry's JWKS")
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise unavailable('the registry\'s JWKS is not a JWK Set ({"keys": [...]})')
        keys = {}
        for jwk in document["keys"]:
            # A key of another kind or algorithm is skipped: no list may name it.
            if not isinstance(jwk, dict) or jwk.get("alg") not in ALLOWED_ALGS or not isinstance(jwk.get("kid"), str):
                continue
            try:
                keys[jwk["kid"]] = (jwk["alg"], jwt.PyJWK(jwk, algorithm=jwk["alg"]).key)
            except (PyJWKError, PyJWTError, ValueError, TypeError):
                continue
        if not keys:
            raise unavailable("the registry's JWKS has no ES256 or EdDSA key")
        return cls(keys=keys)


@dataclass(frozen=True)
class Signed:
    """A list whose signature, typ, iss and sub were checked."""

    raw: bytes
    payload: dict[str, Any]
    iat: int
    exp: int


def _is_time(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_list(raw: bytes, *, name: str, typ: str, sub: str, iss: str | None, keys: RegistryKeys) -> Signed:
    """`raw`, the compact JWS of the list called `name` (for messages), checked
    as this module's docstring says. `iss` None: any issuer (the caller then
    holds every other list to this one's)."""
    try:
        token = raw.decode("ascii").strip()
        header = jwt.get_unverified_header(token)
    except (UnicodeDecodeError, PyJWTError):
        raise unavailable(f"{name} is not a compact JWS") from None
    shown = header.get("typ")
    if not isinstance(shown, str) or shown.lower().removeprefix("application/") != typ:
        raise unavailable(f"{name} has typ {str(shown)[:40]!r}, not {typ!r}")
    kid = header.get("kid")
    found = keys.keys.get(kid) if isinstance(kid, str) else None
    if found is None:
        raise unavailable(f"{name} is signed with key {str(kid)[:80]!r}, which is not in the registry's JWKS")
    alg, key = found
    if header.get("alg") != alg:
        raise unavailable(f"{name} says alg {str(header.get('alg'))[:20]!r}, but key {kid} is {alg}")
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[alg],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except InvalidSignatureError:
        raise unavailable(f"{name}: the signature does not verify with key {kid}") from None
    except PyJWTError:
        raise unavailable(f"{name} is not a compact JWS with a JSON payload") from None
    if not isinstance(payload, dict):
        raise unavailable(f"{name} has no JSON object payload")
    if iss is not None and payload.get("iss") != iss:
        raise unavailable(f"{name} has iss {str(payload.get('iss'))[:100]!r}, not {iss!r}")
    if not isinstance(payload.get("iss"), str):
        raise unavailable(f"{name} has no iss")
    if payload.get("sub") != sub:
        raise unavailable(f"{name} has sub {str(payload.get('sub'))[:100]!r}, not {sub!r}")
    if not (_is_time(payload.get("iat")) and _is_time(payload.get("exp"))):
        raise unavailable(f"{name} has no integer iat and exp")
    if payload["exp"] <= payload["iat"]:
        raise unavailable(f"{name} has exp before iat")
    return Signed(raw=raw, payload=payload, iat=payload["iat"], exp=payload["exp"])
