"""Hostile tokens of RFC 8725 and the PyJWT advisories, through the HTTP API:
algorithm confusion, key-source headers, hostile kids, degenerate and
malleated signatures. Each is a 200 rejection with the exact reason code and
one audit row (tests.support.hostile.assert_rejected); where a forgery starts from
a genuine token, the genuine token is shown to be accepted first.

Encoding and size attacks are in test_hostile_encoding.py."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.utils import timezone

from identity.jose.key_files import public_jwk_of
from identity.models import Authority, AuthorityKey
from identity.services.keys import key_register
from tests.support.hostile import assert_accepted, assert_rejected, header_for
from tests.support.tokens import TYP, b64, claims_for, resign, segment, sign

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE", ""]

# Curve orders from SEC 2 (independent of the constants in signature.py).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P384_ORDER = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16)
EC_CASES = {"ES256": (ec.SECP256R1(), 32, P256_ORDER), "ES384": (ec.SECP384R1(), 48, P384_ORDER)}

# The order of the Ed25519 base point (RFC 8032 §5.1).
ED25519_L = 2**252 + 27742317777372353535851937790883648493


def _unsigned(header: dict, claims: dict) -> str:
    return f"{segment(header)}.{segment(claims)}"


def test_control_resigned_credential_is_accepted(world, api):
    # The tests below change one thing in exactly this token.
    assert_accepted(api, resign(world.cl, segment(header_for(world.cl)), segment(claims_for(world.cl))))


# alg "none" (RFC 8725 §2.1, §3.1) ------------------------------------------


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_rejects_alg_none_in_any_casing_even_with_a_valid_signature(world, api, alg):
    token = resign(world.cl, segment(header_for(world.cl, alg=alg)), segment(claims_for(world.cl)))
    assert_rejected(api, token, ["unsupported_algorithm"])


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_rejects_alg_none_with_an_empty_signature_segment_as_malformed(world, api, alg):
    # "a.b." is an unsecured JWS (RFC 7515 §A.5); an empty segment is not
    # base64url of anything here, so the parser stops before the alg check.
    token = _unsigned(header_for(world.cl, alg=alg), claims_for(world.cl)) + "."
    assert_rejected(api, token, ["malformed_token"])


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_rejects_alg_none_without_a_signature_part_as_malformed(world, api, alg):
    token = _unsigned(header_for(world.cl, alg=alg), claims_for(world.cl))
    assert_rejected(api, token, ["malformed_token"])


def test_rejects_missing_alg(world, api):
    header = {"typ": TYP, "kid": world.cl.key.kid}
    assert_rejected(api, resign(world.cl, segment(header), segment(claims_for(world.cl))), ["unsupported_algorithm"])


@pytest.mark.parametrize(
    "alg", ["HS384", "HS512", "RS384", "RS512", "PS384", "PS512", "ES512", "ES256K", "Ed25519", "eddsa", "EdDSA "]
)
def test_rejects_algorithms_outside_the_exact_allow_list(world, api, alg):
    token = resign(world.cl, segment(header_for(world.cl, alg=alg)), segment(claims_for(world.cl)))
    assert_rejected(api, token, ["unsupported_algorithm"])


# HMAC with the public key as secret (CVE-2017-11424, CVE-2022-29217) --------


def _public_key_as_secret(world, form: str) -> bytes:
    public_jwk = world.cl.key.public_jwk
    key = jwt.PyJWK(public_jwk).key
    if form == "pem":
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if form == "der":
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return json.dumps(public_jwk).encode("utf-8")


@pytest.mark.parametrize("form", ["pem", "der", "jwk"])
def test_rejects_hs256_signed_with_the_authoritys_public_key(world, api, form):
    secret = _public_key_as_secret(world, form)
    signing_input = _unsigned(header_for(world.cl, alg="HS256"), claims_for(world.cl))
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    assert_rejected(api, f"{signing_input}.{b64(mac)}", ["unsupported_algorithm"])


# Key sources in the header (RFC 8725 §3.10; RFC 7515 §4.1.2-4.1.6, §4.1.11) --

UNTRUSTED_MEMBERS = {
    "jku": "https://attacker.test/jwks.json",
    "x5u": "https://attacker.test/cert.pem",
    "x5c": ["MIIBszCCAVmgAwIBAgIUAttacker"],
    "crit": ["exp"],
    "b64": False,
    "zip": "DEF",
    "cty": "JWT",
}


@pytest.mark.parametrize("member", sorted(UNTRUSTED_MEMBERS))
def test_rejects_a_validly_signed_token_with_an_untrusted_header_member(world, api, member):
    header = header_for(world.cl, **{member: UNTRUSTED_MEMBERS[member]})
    token = resign(world.cl, segment(header), segment(claims_for(world.cl)))
    assert_rejected(api, token, ["untrusted_header"])


def test_rejects_a_validly_signed_token_carrying_the_authoritys_own_jwk(world, api):
    header = header_for(world.cl, jwk=world.cl.key.public_jwk)
    assert_rejected(api, resign(world.cl, segment(header), segment(claims_for(world.cl))), ["untrusted_header"])


def test_rejects_a_token_signed_by_the_attacker_key_it_embeds(world, api):
    attacker = ed25519.Ed25519PrivateKey.generate()
    attacker_jwk = public_jwk_of(attacker)
    header = header_for(world.cl, jwk=attacker_jwk, kid=attacker_jwk.get("kid", "attacker"))
    signing_input = _unsigned(header, claims_for(world.cl))
    token = f"{signing_input}.{b64(attacker.sign(signing_input.encode('ascii')))}"
    assert_rejected(api, token, ["untrusted_header"])


# Hostile kids: a kid is a plain lookup, never a path, a query or a URL ------

HOSTILE_KIDS = {
    "path": "../../etc/passwd",
    "sql": "x' OR '1'='1",
    "sql-comment": "'; DROP TABLE identity_authoritykey; --",
    "like-wildcard": "%",
    "url": "https://attacker.test/jwks.json#key-1",
    "long": "k" * 5000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_KIDS))
def test_rejects_hostile_kid_as_unknown_key_and_leaves_the_registry_intact(world, api, settings, kind):
    counts = (Authority.objects.count(), AuthorityKey.objects.count())
    token = sign(world.cl, header={"kid": HOSTILE_KIDS[kind]})
    assert len(token) <= settings.REGISTRY["MAX_TOKEN_BYTES"], "must reach the key lookup, not the size cap"
    assert_rejected(api, token, ["unknown_key"])
    assert (Authority.objects.count(), AuthorityKey.objects.count()) == counts
    assert AuthorityKey.objects.filter(pk=world.cl.key.pk, kid=world.cl.key.kid).exists()
    assert_accepted(api, sign(world.cl))


def test_rejects_kid_with_a_nul_character_as_malformed(world, api):
    # U+0000 cannot be stored in or compared with a PostgreSQL text column:
    # the parser refuses it everywhere, before any lookup or audit write.
    assert_rejected(api, sign(world.cl, header={"kid": "a\u0000b"}), ["malformed_token"])


def test_rejects_kid_over_the_token_cap_as_too_large(world, api, settings):
    token = sign(world.cl, header={"kid": "k" * 10_000})
    assert len(token) > settings.REGISTRY["MAX_TOKEN_BYTES"]
    assert_rejected(api, token, ["token_too_large"])


def test_rejects_another_authoritys_kid_in_a_token_claiming_this_issuer(world, api):
    # KZ signs with its own key and names its own kid, but claims CL's iss:
    # the kid is looked up under CL only.
    token = jwt.encode(
        claims_for(world.cl), world.kz.private_key, algorithm="EdDSA", headers={"kid": world.kz.key.kid, "typ": TYP}
    )
    assert_rejected(api, token, ["unknown_key"])


# Degenerate ECDSA signatures (CVE-2022-21449, "psychic signatures") ---------


def _register_ec_key(world, alg: str):
    curve = EC_CASES[alg][0]
    private_key = ec.generate_private_key(curve)
    key = key_register(
        authority=world.cl.authority,
        jwk=public_jwk_of(private_key),
        not_before=timezone.now() - timedelta(days=30),
    )
    assert key.alg == alg
    return private_key, key


@pytest.mark.parametrize("alg", sorted(EC_CASES))
@pytest.mark.parametrize("value", ["zero", "curve-order"])
def test_rejects_ecdsa_signature_with_r_and_s_zero_or_the_curve_order(world, api, alg, value):
    private_key, key = _register_ec_key(world, alg)
    claims, headers = claims_for(world.cl), {"kid": key.kid, "typ": TYP}
    assert_accepted(api, jwt.encode(claims, private_key, algorithm=alg, headers=headers))
    _, size, order = EC_CASES[alg]
    number = 0 if value == "zero" else order
    signature = number.to_bytes(size, "big") * 2
    token = f"{_unsigned({'alg': alg, **headers}, claims)}.{b64(signature)}"
    assert_rejected(api, token, ["invalid_signature"])


@pytest.mark.parametrize("alg", sorted(EC_CASES))
def test_rejects_ecdsa_signature_in_der_instead_of_r_concatenated_with_s(world, api, alg):
    private_key, key = _register_ec_key(world, alg)
    signing_input = _unsigned({"alg": alg, "typ": TYP, "kid": key.kid}, claims_for(world.cl))
    digest = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
    der = private_key.sign(signing_input.encode("ascii"), ec.ECDSA(digest))
    assert_rejected(api, f"{signing_input}.{b64(der)}", ["invalid_signature"])


# Ed25519 malleability (RFC 8032 §5.1.7: S must be below L) -----------------


def test_rejects_ed25519_signature_with_l_added_to_s(world, api):
    token = sign(world.cl)
    assert_accepted(api, token)
    signing_input, _, signature_b64 = token.rpartition(".")
    signature = base64.urlsafe_b64decode(signature_b64 + "==")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + ED25519_L).to_bytes(32, "little")
    assert malleated != signature
    assert_rejected(api, f"{signing_input}.{b64(malleated)}", ["invalid_signature"])


@pytest.mark.parametrize("signature", [b"\x00" * 64, b"\x01", b"\xff" * 64, b"\x00" * 65])
def test_rejects_degenerate_ed25519_signatures(world, api, signature):
    signing_input = sign(world.cl).rpartition(".")[0]
    assert_rejected(api, f"{signing_input}.{b64(signature)}", ["invalid_signature"])


def test_rejects_signature_of_another_authority_over_a_genuine_header_and_payload(world, api):
    token = sign(world.cl)
    signing_input = token.rpartition(".")[0]
    forged = world.kz.private_key.sign(signing_input.encode("ascii"))
    assert_rejected(api, f"{signing_input}.{b64(forged)}", ["invalid_signature"])
