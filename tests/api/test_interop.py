"""Interoperability: credentials signed by another JOSE library (jwcrypto)
verify through the API for every allowed algorithm; the registry's own
credentials verify with jwcrypto; and the RFC vectors presented as
credentials are refused or accepted as they should be. (The signature layer
against the RFC known answers: verifier/tests/test_signature.py.)"""

import io
import json
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

from identity.jose.key_files import load_private_key
from identity.models import AuthorityKey
from identity.services.credentials import credential_issue
from identity.services.keys import key_generate, key_register
from merchant_verifier.tokens import Rejected, parse_token
from recognition.models import Verification
from tests.support.hostile import assert_accepted, assert_rejected, header_for
from tests.support.jose_vectors import VECTORS, flip_bit, unb64
from tests.support.tokens import TYP, b64, claims_for, segment

JWCRYPTO_KEYS = {
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
    "ES256": {"kty": "EC", "crv": "P-256"},
    "ES384": {"kty": "EC", "crv": "P-384"},
    "PS256": {"kty": "RSA", "size": 2048},
    "RS256": {"kty": "RSA", "size": 2048},
}


# jwcrypto signs, the registry verifies ------------------------------------


def _import_jwks(world, public_jwk: dict, tmp_path: Path) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk]}))
    out = io.StringIO()
    call_command("import_jwks", world.cl.authority.issuer, str(path), stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize("alg", sorted(JWCRYPTO_KEYS))
def test_accepts_credential_signed_by_jwcrypto(world, api, tmp_path, alg):
    key = jwcrypto_jwk.JWK.generate(**JWCRYPTO_KEYS[alg])
    public_jwk = key.export_public(as_dict=True)
    if public_jwk["kty"] == "RSA":
        public_jwk["alg"] = alg  # an RSA key needs an explicit alg (DESIGN §3)
    kid = _import_jwks(world, public_jwk, tmp_path)
    registered = AuthorityKey.objects.get(authority=world.cl.authority, kid=kid)
    assert registered.alg == alg
    # Issued after the key was registered: its not_before is the registration.
    now = int(time.time())
    token = jwcrypto_jwt.JWT(header={"alg": alg, "typ": TYP, "kid": kid}, claims=claims_for(world.cl, iat=now, nbf=now))
    token.make_signed_token(key)
    compact = token.serialize()
    body = assert_accepted(api, compact)
    assert body["issuer"]["issuer"] == world.cl.authority.issuer
    assert Verification.objects.get(id=body["id"]).kid == kid
    # the same credential with one bit of the signature flipped is refused
    signing_input, _, signature = compact.rpartition(".")
    assert_rejected(api, f"{signing_input}.{b64(flip_bit(unb64(signature), 5))}", ["invalid_signature"])


# The registry signs, jwcrypto verifies -------------------------------------


@pytest.mark.parametrize("alg", sorted(JWCRYPTO_KEYS))
def test_registry_issued_credential_verifies_with_jwcrypto(world, api, tmp_path, alg):
    key_file = tmp_path / "private.pem"
    key = key_generate(authority=world.cl.authority, alg=alg, private_key_out=key_file)
    issued = credential_issue(
        merchant=world.cl.merchant,
        private_key=load_private_key(key_file),
        credential_type=world.merchant_identity,
        kid=key.kid,
    )
    verifier = jwcrypto_jwk.JWK(**key.public_jwk)
    checked = jwcrypto_jwt.JWT(jwt=issued.token, key=verifier, algs=[alg], expected_type="JWS")
    claims = json.loads(checked.claims)
    assert json.loads(checked.header) == {"alg": alg, "typ": TYP, "kid": key.kid}
    assert claims["jti"] == issued.credential.jti and claims["iss"] == world.cl.authority.issuer
    assert claims["merchant"]["registration_number"] == claims["sub"] == world.cl.merchant.registration_number
    assert_accepted(api, issued.token)


# The RFC vectors as presented credentials ----------------------------------


@pytest.mark.parametrize("vector_id", ["rfc7520-4.3-ES512", "rfc7520-4.2-PS384"])
def test_parser_refuses_rfc_vector_with_a_text_payload_before_the_alg_check(world, api, vector_id):
    # These RFC 7520 payloads are prose, not a JSON object: DESIGN §5 checks
    # structure (malformed_token) before the algorithm.
    compact = VECTORS[vector_id]["compact"]
    parsed = parse_token(compact, max_bytes=8192)
    assert isinstance(parsed, Rejected) and parsed.reason == "malformed_token"
    assert_rejected(api, compact, ["malformed_token"])


@pytest.mark.parametrize("vector_id", ["rfc7520-4.3-ES512", "rfc7520-4.2-PS384"])
def test_refuses_rfc_vector_algorithm_with_a_credential_payload_as_unsupported(world, api, vector_id):
    # The vector's own protected header and genuine signature, around a
    # credential payload: refused at the alg check, before any key lookup.
    header, _, signature = VECTORS[vector_id]["compact"].split(".")
    compact = f"{header}.{segment(claims_for(world.cl))}.{signature}"
    parsed = parse_token(compact, max_bytes=8192)
    assert isinstance(parsed, Rejected) and parsed.reason == "unsupported_algorithm"
    assert_rejected(api, compact, ["unsupported_algorithm"])


def test_rfc7515_es256_vector_is_not_a_merchant_credential(world, api):
    # A genuine ES256 JWS of another profile (no typ): explicit typing
    # (RFC 8725 §3.11) keeps it from being taken for a credential.
    compact = VECTORS["rfc7515-A.3-ES256"]["compact"]
    assert_rejected(api, compact, ["wrong_token_type"])


def test_vector_key_registered_for_cl_verifies_a_vector_signed_credential(world, api):
    # The RFC 7520 RSA key, registered as CL's RS256 key, and a credential
    # signed with its private half by jwcrypto: accepted end to end.
    vector = VECTORS["rfc7520-4.1-RS256"]
    key = key_register(authority=world.cl.authority, jwk=vector["jwk_public"], alg="RS256")
    private = jwcrypto_jwk.JWK(**vector["jwk_private"])
    now = int(time.time())
    token = jwcrypto_jwt.JWT(
        header=header_for(world.cl, alg="RS256", kid=key.kid), claims=claims_for(world.cl, iat=now)
    )
    token.make_signed_token(private)
    assert key.kid == vector["jwk_public"]["kid"]
    assert_accepted(api, token.serialize())
