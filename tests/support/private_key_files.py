"""Private-key files that `load_private_key` must refuse without a traceback
and without repeating the key: each case holds a secret `d` that must appear
in no output."""

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


@dataclass(frozen=True)
class KeyFile:
    content: str
    secret: str  # the private value that must never be printed
    message: str  # a fragment of the refusal


def _private_jwk(key: object, algorithm: type) -> dict[str, str]:
    return json.loads(algorithm.to_jwk(key))


def refused_key_files() -> dict[str, KeyFile]:
    okp = _private_jwk(ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm)
    p256 = _private_jwk(ec.generate_private_key(ec.SECP256R1()), ECAlgorithm)
    rsa_one = _private_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm)
    rsa_two = _private_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm)
    x25519_pem = (
        x25519.X25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    unreadable = "holds no readable unencrypted private key"
    cases = {
        # PyJWT: "kty is not found: {...the whole JWK...}"
        "no kty": KeyFile(json.dumps({"foo": 1, "d": okp["d"]}), okp["d"], "'kty' is missing"),
        "lower-case kty": KeyFile(json.dumps({**okp, "kty": "okp"}), okp["d"], "is not OKP, EC or RSA"),
        "kty array": KeyFile(json.dumps({**okp, "kty": ["OKP"]}), okp["d"], "is not OKP, EC or RSA"),
        "a JWKS": KeyFile(json.dumps({"keys": [okp]}), okp["d"], "'kty' is missing"),
        "unknown curve": KeyFile(json.dumps({**p256, "crv": "P-999"}), p256["d"], unreadable),
        "curve array": KeyFile(json.dumps({**p256, "crv": ["P-256"]}), p256["d"], unreadable),
        "alg array": KeyFile(json.dumps({**okp, "alg": ["EdDSA"]}), okp["d"], unreadable),
        "RSA n, e, d that do not match": KeyFile(
            json.dumps({"kty": "RSA", "n": rsa_one["n"], "e": rsa_one["e"], "d": rsa_two["d"]}),
            rsa_two["d"],
            unreadable,
        ),
        "RSA member too long": KeyFile(
            json.dumps({**rsa_one, "n": "A" * 5000}), rsa_one["d"], "member 'n' is longer than any key"
        ),
        "nested too deeply": KeyFile(
            '{"d": "' + okp["d"] + '", "kty": "OKP", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            okp["d"],
            unreadable,
        ),
        "X25519 PEM": KeyFile(x25519_pem, x25519_pem.splitlines()[1], "does not sign with"),
    }
    return cases
