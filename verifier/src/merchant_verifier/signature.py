"""The signature layer: verify a JWS signature with a registered public key
(RFC 7515, RFC 7518 §3, RFC 8037). Only the allowed algorithms exist here.
"""

from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from merchant_verifier.algorithms import ALLOWED_ALGS
from merchant_verifier.jwk import public_key_of

_EC = {"ES256": (ec.SECP256R1(), hashes.SHA256(), 32), "ES384": (ec.SECP384R1(), hashes.SHA384(), 48)}
_CURVE_ORDER = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
}


def verify_signature(*, alg: str, jwk: dict[str, Any], signing_input: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid `alg` signature of `signing_input`."""
    if alg not in ALLOWED_ALGS:
        # Answered before the key is built: a P-521 key (ES512) has no curve here.
        return False
    return verifier_of(public_key_of(jwk), alg)(signing_input, signature)


Check = Callable[[bytes, bytes], bool]


def verifier_of(key: Any, alg: str) -> Check:
    """check(signing_input, signature): True when `signature` is a valid `alg`
    signature of `signing_input` with `key` (a key object). The algorithm is
    matched to the key's type here, once: a key snapshot keeps its check
    (model.KeySnapshot), so a verification pays only for the signature."""
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
        verify = key.verify

        def verify_eddsa(signing_input: bytes, signature: bytes) -> bool:
            # OpenSSL refuses S >= L (RFC 8032 §5.1.7), so S + L malleability fails here.
            try:
                verify(signature, signing_input)
            except InvalidSignature:
                return False
            return True

        return verify_eddsa
    if alg in _EC and isinstance(key, ec.EllipticCurvePublicKey):
        _, digest, size = _EC[alg]
        order, ecdsa = _CURVE_ORDER[alg], ec.ECDSA(digest)

        def verify_ec(signing_input: bytes, signature: bytes) -> bool:
            if len(signature) != 2 * size:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            # r and s must lie in [1, n-1] (SEC 1 §4.1.4); OpenSSL checks it too,
            # this keeps r = s = 0 and r = s = n out of its hands entirely.
            if not (0 < r < order and 0 < s < order):
                return False
            key.verify(encode_dss_signature(r, s), signing_input, ecdsa)
            return True

        return _checked(verify_ec)
    if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
        pkcs1 = padding.PKCS1v15()
        return _checked(lambda signing_input, signature: key.verify(signature, signing_input, pkcs1, hashes.SHA256()))
    if alg == "PS256" and isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
        return _checked(lambda signing_input, signature: key.verify(signature, signing_input, pss, hashes.SHA256()))
    return _never


def _never(signing_input: bytes, signature: bytes) -> bool:
    return False


def _checked(verify: Callable[[bytes, bytes], bool | None]) -> Check:
    """`verify` with InvalidSignature as False; None (OpenSSL's success) as True."""

    def check(signing_input: bytes, signature: bytes) -> bool:
        try:
            return verify(signing_input, signature) is not False
        except InvalidSignature:
            return False

    return check
