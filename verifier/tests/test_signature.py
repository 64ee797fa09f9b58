"""The signature layer (src/merchant_verifier/signature.py) against the RFC
known-answer vectors (RFC 7515, 7520, 8037; the repository's tests/data/jose-rfc-vectors.json, where the
project keeps test keys): it
verifies them, refuses them with one bit flipped, and refuses genuine
signatures of algorithms outside the allow-list or under another algorithm
than their own."""

import base64
import json
from pathlib import Path

import pytest

from merchant_verifier.signature import verify_signature

VECTORS = {
    vector["id"]: vector
    for vector in json.loads((Path(__file__).parents[2] / "tests" / "data" / "jose-rfc-vectors.json").read_text())[
        "vectors"
    ]
}


def flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def vector_parts(vector: dict) -> tuple[bytes, bytes]:
    header, payload, signature = vector["compact"].split(".")
    return f"{header}.{payload}".encode("ascii"), base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))


@pytest.mark.parametrize("vector_id", ["rfc8037-A.4-EdDSA-Ed25519", "rfc7520-4.1-RS256", "rfc7515-A.3-ES256"])
def test_signature_layer_verifies_rfc_vector(vector_id):
    vector = VECTORS[vector_id]
    signing_input, signature = vector_parts(vector)
    verify = {"alg": vector["alg"], "jwk": vector["jwk_public"]}
    assert verify_signature(**verify, signing_input=signing_input, signature=signature) is True


@pytest.mark.parametrize("vector_id", ["rfc8037-A.4-EdDSA-Ed25519", "rfc7520-4.1-RS256", "rfc7515-A.3-ES256"])
@pytest.mark.parametrize("where", ["signature-first", "signature-last", "signing-input"])
def test_signature_layer_refuses_rfc_vector_with_one_bit_flipped(vector_id, where):
    vector = VECTORS[vector_id]
    signing_input, signature = vector_parts(vector)
    if where == "signing-input":
        signing_input = flip_bit(signing_input, len(signing_input) // 2)
    else:
        signature = flip_bit(signature, 0 if where == "signature-first" else len(signature) - 1)
    verify = {"alg": vector["alg"], "jwk": vector["jwk_public"]}
    assert verify_signature(**verify, signing_input=signing_input, signature=signature) is False


@pytest.mark.parametrize("vector_id", ["rfc7520-4.3-ES512", "rfc7520-4.2-PS384"])
def test_signature_layer_refuses_genuine_signatures_of_algorithms_outside_the_allow_list(vector_id):
    vector = VECTORS[vector_id]
    signing_input, signature = vector_parts(vector)
    verify = {"alg": vector["alg"], "jwk": vector["jwk_public"]}
    assert verify_signature(**verify, signing_input=signing_input, signature=signature) is False


@pytest.mark.parametrize("alg", ["PS256", "EdDSA", "ES256"])
def test_signature_layer_refuses_a_genuine_rs256_signature_under_another_algorithm(alg):
    vector = VECTORS["rfc7520-4.1-RS256"]
    signing_input, signature = vector_parts(vector)
    verify = {"jwk": vector["jwk_public"], "signing_input": signing_input, "signature": signature}
    assert verify_signature(alg="RS256", **verify) is True
    assert verify_signature(alg=alg, **verify) is False
