"""A public key object from a registered public JWK (RFC 7517, RFC 7518 §6,
RFC 8037). The JWK has passed the registry's key intake (DESIGN §3 "Key
intake") before it reached a trust list or a snapshot; this module only builds
the key, and refuses nothing but what cannot be built."""

import base64
import functools
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def _int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


@functools.lru_cache(maxsize=4096)
def _public_key(jwk_json: str) -> Any:
    """Build the key object once per distinct public JWK; public key material
    of a registered key never changes, so the cache is exact."""
    jwk = json.loads(jwk_json)
    if jwk["kty"] == "OKP":
        return ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "="))
    if jwk["kty"] == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
        return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
    return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()


def public_key_of(jwk: dict[str, Any]) -> Any:
    return _public_key(json.dumps(jwk, sort_keys=True))
