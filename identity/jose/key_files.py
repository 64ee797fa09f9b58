"""Private signing keys in files (DESIGN §3: private keys never enter the
database; the registry's tools write a generated one to a file the operator
names, mode 0600): generated, written, read back, and their public JWK.

The refusals are written here and never repeat a library's message: PyJWT's
quote the JWK, private members included, and cryptography's may quote the
key."""

import json
import os
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.exceptions import ValidationError
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from identity.jose.algorithms import Alg

MAX_KEY_FILE_BYTES = 1024 * 1024
# An RSA 16384-bit modulus is 2731 base64url characters; longer members would
# only make PyJWT's prime recovery (n, e, d without p, q) run for hours.
MAX_JWK_MEMBER_CHARS = 4096


def generate_private_key(alg: str) -> Any:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg in ("PS256", "RS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValidationError(f"alg {alg!r} is not allowed; use one of {', '.join(Alg.values)}")


def public_jwk_of(private_or_public_key: Any) -> dict[str, str]:
    """The public JWK of a cryptography key object."""
    key = private_or_public_key
    if hasattr(key, "public_key"):
        key = key.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPAlgorithm.to_jwk(key, as_dict=True)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECAlgorithm.to_jwk(key, as_dict=True)
    if isinstance(key, rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(key, as_dict=True)
    raise ValidationError("unsupported key type; use Ed25519, EC P-256/P-384 or RSA")


def write_private_key(private_key: Any, path: Path) -> None:
    """Write a PEM (PKCS#8) private key to a new file of mode 0600; never
    overwrite an existing file. A write that fails half-way removes the file
    it created, and only that one."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} already exists; refusing to overwrite a key file") from None
    except OSError as exc:
        raise ValidationError(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def load_private_key(path: Path) -> Any:
    """Read a private signing key: a PEM (PKCS#8 or traditional) or a private
    JWK of an Ed25519, EC P-256/P-384 or RSA key.

    The refusals are written here and never repeat a library's message: PyJWT's
    quote the JWK, private members included, and cryptography's may quote the
    key. Both raise many exception types (InvalidKeyError, ValueError,
    TypeError, AttributeError, UnsupportedAlgorithm, RecursionError...), all of
    them caught."""
    data = _read_key_file(path)
    unreadable = (
        f"{path} holds no readable unencrypted private key "
        "(PEM, or a private JWK of an Ed25519, EC P-256/P-384 or RSA key)"
    )
    try:
        if data.lstrip().startswith(b"{"):
            key = _key_from_private_jwk(data, path)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(unreadable) from None
    if not _is_signing_key(key):
        raise ValidationError(
            f"{path} holds a private key of a kind the registry does not sign with (use Ed25519, EC P-256/P-384 or RSA)"
        )
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"cannot read private key {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ValidationError(f"{path} is larger than {MAX_KEY_FILE_BYTES} bytes; it is not a private key file")
    return data


def _key_from_private_jwk(data: bytes, path: Path) -> Any:
    """What PyJWT makes of a JWK, once the refusals that can be named without
    quoting the key are made."""
    jwk = json.loads(data.decode("utf-8"))
    if not isinstance(jwk, dict):
        raise ValidationError(f"{path} holds JSON that is not a JWK object")
    if jwk.get("kty") not in ("OKP", "EC", "RSA"):
        raise ValidationError(f"{path}: the JWK's 'kty' is missing or is not OKP, EC or RSA")
    if "d" not in jwk:
        raise ValidationError(f"{path} holds a public JWK; a private key is needed to sign")
    for member, value in jwk.items():
        if isinstance(value, str) and len(value) > MAX_JWK_MEMBER_CHARS:
            name = f"'{member}'" if len(member) <= 8 else "value"
            raise ValidationError(f"{path}: a JWK member {name} is longer than any key the registry uses")
    return jwt.PyJWK(jwk).key


def _is_signing_key(key: Any) -> bool:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.curve.name in ("secp256r1", "secp384r1")
    return isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)
