"""Key intake: the one gate every public key passes before the registry stores
it (DESIGN §3 "Key intake"), and RFC 7638 thumbprints.

Used by the admin form, `import_jwks` and `create_authority_key` alike, so the
refusals below exist once.
"""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from core.json import json_type
from identity.jose.algorithms import ALLOWED_ALGS, Alg

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MIN_RSA_BITS = 2048
MIN_RSA_EXPONENT = 65537

_EC_CURVES: dict[str, tuple[ec.EllipticCurve, int, str]] = {
    # crv: (curve, coordinate length in bytes, the one alg it fits)
    "P-256": (ec.SECP256R1(), 32, "ES256"),
    "P-384": (ec.SECP384R1(), 48, "ES384"),
}
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
# The members intake reads that RFC 7517/7518 define as strings ('key_ops' is
# an array of strings).
_STRING_MEMBERS = ("kty", "crv", "x", "y", "n", "e", "alg", "use", "kid")


# The public members of each key type (RFC 7518 §6): a published key is built
# from this list, never by removing private members, so nothing else can leak.
PUBLIC_MEMBERS = {"OKP": ("kty", "crv", "x"), "EC": ("kty", "crv", "x", "y"), "RSA": ("kty", "n", "e")}


def public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public members of `jwk` for its kty, and its kid, alg and use."""
    members = (*PUBLIC_MEMBERS.get(jwk.get("kty"), ("kty",)), "kid", "alg", "use")
    return {name: jwk[name] for name in members if name in jwk}


class KeyIntakeError(ValueError):
    """A key the registry refuses; the message names the problem."""


@dataclass(frozen=True)
class PublicKey:
    """A key that passed intake: its public JWK (public members only), its
    algorithm and its kid."""

    jwk: dict[str, str]
    alg: str
    kid: str
    thumbprint: str


def b64url_decode(value: Any, member: str) -> bytes:
    """Strict base64url (RFC 7515 §2): no padding, URL alphabet only,
    canonical trailing bits."""
    if not isinstance(value, str) or not value:
        raise KeyIntakeError(f"JWK member '{member}' must be a non-empty base64url string")
    if not _B64URL.match(value) or len(value) % 4 == 1:
        raise KeyIntakeError(f"JWK member '{member}' is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyIntakeError(f"JWK member '{member}' is not unpadded base64url") from None
    if b64url_encode(raw) != value:
        raise KeyIntakeError(f"JWK member '{member}' is not canonical base64url")
    return raw


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK SHA-256 thumbprint, base64url."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def parse_public_jwk(jwk: Any, *, alg: str | None = None, kid: str | None = None) -> PublicKey:
    """Check a JWK against every intake rule and return its public part.

    `alg` and `kid` given by the operator win over the JWK's own members, but
    must agree with them when both are present.
    """
    if not isinstance(jwk, dict):
        raise KeyIntakeError("a JWK must be a JSON object")
    private = sorted(member for member in PRIVATE_MEMBERS if member in jwk)
    if private:
        raise KeyIntakeError(f"the JWK carries private members ({', '.join(private)}); register the public key only")
    _check_member_types(jwk)
    kty = jwk.get("kty")
    if kty == "oct":
        raise KeyIntakeError("kty 'oct' is a shared secret; only public signing keys are accepted")
    _check_usage(jwk)
    alg = _resolve_alg(jwk, alg)
    if kty == "OKP":
        public = _okp(jwk, alg)
    elif kty == "EC":
        public = _ec(jwk, alg)
    elif kty == "RSA":
        public = _rsa(jwk, alg)
    else:
        raise KeyIntakeError(f"unsupported kty {kty!r}; use OKP (Ed25519), EC (P-256, P-384) or RSA")
    print_ = thumbprint(public)
    kid = _resolve_kid(jwk, kid, print_)
    return PublicKey(jwk={**public, "kid": kid, "alg": alg, "use": "sig"}, alg=alg, kid=kid, thumbprint=print_)


def _check_member_types(jwk: dict[str, Any]) -> None:
    """Every member intake reads has the JSON type RFC 7517/7518 give it, before
    any rule uses it (a list as 'crv' must be a refusal, not a TypeError)."""
    for member in _STRING_MEMBERS:
        if member in jwk and not isinstance(jwk[member], str):
            raise KeyIntakeError(f"JWK member '{member}' must be a string, not {json_type(jwk[member])}")
    ops = jwk.get("key_ops", [])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise KeyIntakeError("JWK member 'key_ops' must be an array of strings")


def _check_usage(jwk: dict[str, Any]) -> None:
    if "use" in jwk and jwk["use"] != "sig":
        raise KeyIntakeError(f"JWK 'use' is {jwk['use']!r}; a credential key must have use 'sig'")
    if "key_ops" in jwk and "verify" not in jwk["key_ops"]:
        raise KeyIntakeError("JWK 'key_ops' does not include 'verify'")


def _resolve_alg(jwk: dict[str, Any], alg: str | None) -> str:
    declared = jwk.get("alg")
    if declared is not None and alg is not None and declared != alg:
        raise KeyIntakeError(f"the JWK says alg {declared!r} but {alg!r} was asked for")
    chosen = alg if alg is not None else declared
    if chosen is None:
        chosen = _default_alg(jwk)
    if chosen not in ALLOWED_ALGS:
        raise KeyIntakeError(f"alg {chosen!r} is not allowed; use one of {', '.join(Alg.values)}")
    return chosen


def _default_alg(jwk: dict[str, Any]) -> str:
    if jwk.get("kty") == "OKP":
        return "EdDSA"
    if jwk.get("kty") == "EC":
        if jwk.get("crv") not in _EC_CURVES:
            raise KeyIntakeError(f"EC curve {jwk.get('crv')!r} is not supported; use P-256 or P-384")
        return _EC_CURVES[jwk["crv"]][2]
    if jwk.get("kty") == "RSA":
        raise KeyIntakeError("an RSA key needs an explicit alg (PS256 or RS256)")
    raise KeyIntakeError("the JWK has no alg and none can be inferred from it")


def _resolve_kid(jwk: dict[str, Any], kid: str | None, default: str) -> str:
    declared = jwk.get("kid")
    if declared is not None and not isinstance(declared, str):
        raise KeyIntakeError("JWK 'kid' must be a string")
    if declared and kid and declared != kid:
        raise KeyIntakeError(f"the JWK says kid {declared!r} but {kid!r} was asked for")
    chosen = kid or declared or default
    if len(chosen) > 200 or not chosen.isprintable() or chosen != chosen.strip():
        raise KeyIntakeError("a kid is at most 200 printable characters without surrounding spaces")
    return chosen


def _okp(jwk: dict[str, Any], alg: str) -> dict[str, str]:
    if jwk.get("crv") != "Ed25519":
        raise KeyIntakeError(f"OKP curve {jwk.get('crv')!r} is not supported; use Ed25519")
    if alg != "EdDSA":
        raise KeyIntakeError(f"alg {alg} does not fit an Ed25519 key; use EdDSA")
    raw = b64url_decode(jwk.get("x"), "x")
    if len(raw) != 32:
        raise KeyIntakeError(f"an Ed25519 'x' is 32 bytes, not {len(raw)}")
    if ed25519_point_order_is_small(raw):
        raise KeyIntakeError("the Ed25519 key is a point of small order; it would let anyone forge signatures")
    ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}


def _ec(jwk: dict[str, Any], alg: str) -> dict[str, str]:
    crv = jwk.get("crv")
    if crv not in _EC_CURVES:
        raise KeyIntakeError(f"EC curve {crv!r} is not supported; use P-256 or P-384")
    curve, size, fitting_alg = _EC_CURVES[crv]
    if alg != fitting_alg:
        raise KeyIntakeError(f"alg {alg} does not fit an EC {crv} key; use {fitting_alg}")
    coords = {}
    for member in ("x", "y"):
        raw = b64url_decode(jwk.get(member), member)
        if len(raw) != size:
            raise KeyIntakeError(f"EC {crv} coordinate '{member}' must be {size} bytes, not {len(raw)}")
        coords[member] = int.from_bytes(raw, "big")
    try:
        ec.EllipticCurvePublicNumbers(coords["x"], coords["y"], curve).public_key()
    except ValueError:
        raise KeyIntakeError(f"the EC point is not on curve {crv}") from None
    return {"kty": "EC", "crv": crv, "x": jwk["x"], "y": jwk["y"]}


def _rsa(jwk: dict[str, Any], alg: str) -> dict[str, str]:
    if alg not in ("PS256", "RS256"):
        raise KeyIntakeError(f"alg {alg} does not fit an RSA key; use PS256 or RS256")
    n_raw = b64url_decode(jwk.get("n"), "n")
    e_raw = b64url_decode(jwk.get("e"), "e")
    if n_raw[0] == 0 or e_raw[0] == 0:
        raise KeyIntakeError("RSA 'n' and 'e' must not have leading zero octets (RFC 7518 §6.3.1)")
    n = int.from_bytes(n_raw, "big")
    e = int.from_bytes(e_raw, "big")
    if n.bit_length() < MIN_RSA_BITS:
        raise KeyIntakeError(f"the RSA modulus has {n.bit_length()} bits; at least {MIN_RSA_BITS} are required")
    if n % 2 == 0:
        raise KeyIntakeError("the RSA modulus is even")
    if e < MIN_RSA_EXPONENT:
        raise KeyIntakeError(f"the RSA exponent {e} is below {MIN_RSA_EXPONENT}")
    if e % 2 == 0:
        raise KeyIntakeError("the RSA exponent is even")
    try:
        rsa.RSAPublicNumbers(e, n).public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise KeyIntakeError("the RSA public key is not valid") from None
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


# Ed25519 arithmetic (RFC 8032 §5.1), only to refuse keys of small order: the
# cofactor is 8, so a point P has small order exactly when 8·P is the identity.
_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _ed_decode(raw: bytes) -> tuple[int, int] | None:
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _ed_double(point: tuple[int, int]) -> tuple[int, int]:
    x, y = point
    denominator_x = pow(1 + _D * x * x * y * y, _P - 2, _P)
    denominator_y = pow(1 - _D * x * x * y * y, _P - 2, _P)
    return (2 * x * y * denominator_x % _P, (y * y + x * x) * denominator_y % _P)


def ed25519_point_order_is_small(raw: bytes) -> bool:
    """True when the encoded point has order 1, 2, 4 or 8, or is no valid
    point at all (refused either way)."""
    point = _ed_decode(raw)
    if point is None:
        raise KeyIntakeError("the Ed25519 'x' is not a valid curve point encoding")
    for _ in range(3):
        point = _ed_double(point)
    return point == (0, 1)
