"""Key intake (DESIGN §3): every refusal, and RFC 7638 thumbprints."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from identity.jose.jwk import KeyIntakeError, b64url_encode, parse_public_jwk, thumbprint
from tests.support.jose_vectors import VECTORS

# RFC 8037 A.1 (public part) and its A.3 thumbprint.
RFC8037_A1 = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_A3_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def rsa_jwk(bits: int = 2048, exponent: int = 65537) -> dict:
    return RSAAlgorithm.to_jwk(
        rsa.generate_private_key(public_exponent=exponent, key_size=bits).public_key(), as_dict=True
    )


def ec_jwk(curve: ec.EllipticCurve = ec.SECP256R1()) -> dict:  # noqa: B008
    return ECAlgorithm.to_jwk(ec.generate_private_key(curve).public_key(), as_dict=True)


def ed_jwk() -> dict:
    return OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate().public_key(), as_dict=True)


def refused(jwk: dict, match: str, **kwargs) -> None:
    with pytest.raises(KeyIntakeError, match=match):
        parse_public_jwk(jwk, **kwargs)


def test_kid_defaults_to_rfc7638_thumbprint_of_rfc8037_a1_key():
    key = parse_public_jwk(RFC8037_A1)
    assert key.kid == RFC8037_A3_THUMBPRINT
    assert key.thumbprint == RFC8037_A3_THUMBPRINT
    assert thumbprint(RFC8037_A1) == RFC8037_A3_THUMBPRINT
    assert key.alg == "EdDSA"


def test_stored_jwk_holds_public_members_only():
    key = parse_public_jwk({**RFC8037_A1, "ext": True, "x5t": "ignored"})
    assert key.jwk == {**RFC8037_A1, "kid": RFC8037_A3_THUMBPRINT, "alg": "EdDSA", "use": "sig"}


@pytest.mark.parametrize("vector", ["rfc7520-4.1-RS256", "rfc7515-A.3-ES256", "rfc8037-A.4-EdDSA-Ed25519"])
def test_accepts_rfc_public_keys_of_allowed_algorithms(vector):
    data = VECTORS[vector]
    key = parse_public_jwk(data["jwk_public"], alg=data["alg"])
    assert key.alg == data["alg"]
    if "jwk_thumbprint_sha256" in data:
        assert key.thumbprint == data["jwk_thumbprint_sha256"]


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_refuses_private_members(member):
    refused({**rsa_jwk(), member: "AQAB"}, match=rf"private members \({member}\)", alg="RS256")


def test_refuses_full_private_rfc_key():
    refused(VECTORS["rfc7520-4.1-RS256"]["jwk_private"], match="private members", alg="RS256")


def test_refuses_symmetric_oct_key():
    refused({"kty": "oct", "k": "c2VjcmV0"}, match="private members")
    refused({"kty": "oct"}, match="kty 'oct'")


def test_refuses_use_enc():
    refused({**RFC8037_A1, "use": "enc"}, match="use 'sig'")


def test_refuses_key_ops_without_verify():
    refused({**RFC8037_A1, "key_ops": ["encrypt"]}, match="key_ops")
    assert parse_public_jwk({**RFC8037_A1, "key_ops": ["verify"]}).alg == "EdDSA"


def test_refuses_rsa_1024():
    refused(rsa_jwk(bits=1024), match="1024 bits; at least 2048", alg="RS256")


def test_refuses_rsa_exponent_3():
    refused(rsa_jwk(exponent=3), match="exponent 3 is below 65537", alg="PS256")


def test_refuses_even_rsa_modulus():
    jwk = rsa_jwk()
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big") + 1
    refused({**jwk, "n": b64url_encode(n.to_bytes(256, "big"))}, match="modulus is even", alg="RS256")


def test_refuses_rsa_without_explicit_alg():
    refused(rsa_jwk(), match="explicit alg")


def test_refuses_ec_point_off_the_curve():
    jwk = ec_jwk()
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big")
    refused({**jwk, "y": b64url_encode(((y + 1) % 2**256).to_bytes(32, "big"))}, match="not on curve P-256")


def test_refuses_ec_coordinate_of_wrong_length():
    jwk = ec_jwk()
    short = b64url_encode(base64.urlsafe_b64decode(jwk["x"] + "=")[1:])
    refused({**jwk, "x": short}, match="'x' must be 32 bytes, not 31")


def test_refuses_unsupported_curves():
    refused(ec_jwk(ec.SECP521R1()), match="P-521")
    refused({"kty": "OKP", "crv": "Ed448", "x": "AAAA"}, match="Ed448")


@pytest.mark.parametrize(
    "x",
    [
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # the neutral element, order 1
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # order 4
        "7P_______________________________________38",  # order 2 (y = p - 1)
        "JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU",  # order 8
        "xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA3o",  # order 8
    ],
)
def test_refuses_ed25519_keys_of_small_order(x):
    refused({"kty": "OKP", "crv": "Ed25519", "x": x}, match="small order")


def test_refuses_ed25519_of_wrong_length_and_non_canonical_encoding():
    refused({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_A1["x"][:-4]}, match="32 bytes")
    refused({**RFC8037_A1, "x": RFC8037_A1["x"] + "="}, match="base64url")
    refused({**RFC8037_A1, "x": RFC8037_A1["x"].replace("_", "/")}, match="base64url")


@pytest.mark.parametrize(
    ("jwk_factory", "alg"),
    [
        (ed_jwk, "ES256"),
        (ec_jwk, "EdDSA"),
        (ec_jwk, "ES384"),
        (ec_jwk, "RS256"),
        (rsa_jwk, "ES256"),
        (rsa_jwk, "EdDSA"),
    ],
)
def test_refuses_alg_not_fitting_the_key(jwk_factory, alg):
    refused(jwk_factory(), match="does not fit", alg=alg)


@pytest.mark.parametrize("alg", ["none", "HS256", "ES512", "PS384", "eddsa", "RS512"])
def test_refuses_algorithms_outside_the_allow_list(alg):
    refused(ed_jwk(), match="is not allowed", alg=alg)


def test_refuses_jwk_alg_disagreeing_with_requested_alg():
    refused({**ec_jwk(), "alg": "ES256"}, match="says alg 'ES256'", alg="ES384")


def test_explicit_kid_wins_and_must_agree_with_jwk():
    assert parse_public_jwk(RFC8037_A1, kid="cn-2026").kid == "cn-2026"
    assert parse_public_jwk({**RFC8037_A1, "kid": "cn-2026"}).kid == "cn-2026"
    refused({**RFC8037_A1, "kid": "a"}, match="says kid", kid="b")
    refused(RFC8037_A1, match="printable", kid="bad\x00kid")


def test_refuses_non_object():
    refused(["not", "a", "jwk"], match="JSON object")  # type: ignore[arg-type]


@pytest.mark.parametrize("member", ["kty", "crv", "x", "y", "alg", "use", "kid"])
@pytest.mark.parametrize("value", [["P-256"], {"crv": "P-256"}, 256, None, True])
def test_refuses_a_member_that_is_not_a_string_naming_it(member, value):
    refused({**ec_jwk(), member: value}, match=rf"JWK member '{member}' must be a string, not ")


def test_refuses_an_ec_curve_given_as_an_array_or_object_whatever_the_alg():
    # Once a TypeError (unhashable type) in the curve lookup.
    for crv in (["P-256"], {"P-256": True}):
        refused({**ec_jwk(), "crv": crv}, match="'crv' must be a string, not an")
        refused({**ec_jwk(), "crv": crv}, match="'crv' must be a string, not an", alg="ES256")


@pytest.mark.parametrize("member", ["n", "e"])
def test_refuses_rsa_members_that_are_not_strings(member):
    refused({**rsa_jwk(), member: [65537]}, match=rf"JWK member '{member}' must be a string, not an array", alg="RS256")


@pytest.mark.parametrize("key_ops", ["verify", [["verify"]], ["verify", 1], {"verify": True}])
def test_refuses_key_ops_that_is_not_an_array_of_strings(key_ops):
    refused({**RFC8037_A1, "key_ops": key_ops}, match="'key_ops' must be an array of strings")
