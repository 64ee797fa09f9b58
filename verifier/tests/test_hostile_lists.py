"""Every hostile list a verifier meets is refused with its reason
(src/merchant_verifier/signed.py, contents.py, fetch.py): the decision is
`lists_unavailable` (or `lists_expired`) alone, its detail naming the list
and what is wrong, and nothing of the token is echoed."""

import base64
import json
import struct
import tracemalloc
import zlib

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from registry_double import ISSUER, Served, public_jwk

LIST_PATHS = {
    "trust": "/api/v1/trust-lists/CN/",
    "merchants": "/api/v1/merchant-status/CL/",
    "status": "/api/v1/status-lists/1/",
}
NAMES = {"trust": "the trust list of CN", "merchants": "the merchant-status list of CL", "status": "status list 1"}
TYPS = {"trust": "trust-list+jwt", "merchants": "merchant-status+jwt", "status": "statuslist+jwt"}


def payload_of(registry, which):
    if which == "trust":
        return registry.trust_list_payload()
    if which == "merchants":
        return registry.merchant_status_payload("CL")
    return registry.status_list_payload()


def refused(verifier, registry, code="lists_unavailable"):
    answer = verifier.verify(registry.credential(status_index=1))
    assert answer.codes == [code]
    assert (answer.issuer, answer.merchant, answer.credential, answer.agreement, answer.origin) == (None,) * 5
    return answer.reasons[0]["detail"]


def serve(registry, which, body):
    registry.documents[LIST_PATHS[which]] = Served(body)


@pytest.fixture(params=sorted(LIST_PATHS))
def which(request):
    return request.param


def test_a_list_of_the_wrong_typ_is_refused(verifier, registry, which):
    serve(registry, which, registry.sign(payload_of(registry, which), "jwt"))
    assert refused(verifier, registry) == f"{NAMES[which]} has typ 'jwt', not {TYPS[which]!r}"


def test_a_list_of_another_sub_is_refused(verifier, registry, which):
    payload = payload_of(registry, which)
    payload["sub"] = "https://registry.example/api/v1/status-lists/2/" if which == "status" else "HK"
    serve(registry, which, registry.sign(payload, TYPS[which]))
    assert f"{NAMES[which]} has sub " in refused(verifier, registry)


@pytest.mark.parametrize("which", ["merchants", "status"])
def test_a_list_of_another_issuer_than_the_first_trust_list_is_refused(verifier, registry, which):
    payload = payload_of(registry, which)
    payload["iss"] = "https://impostor.example"
    serve(registry, which, registry.sign(payload, TYPS[which]))
    assert refused(verifier, registry) == f"{NAMES[which]} has iss 'https://impostor.example', not {ISSUER!r}"


def test_a_trust_list_of_another_issuer_than_the_one_configured_is_refused(make_verifier, registry):
    verifier = make_verifier(issuer="https://registry.elsewhere")
    assert "has iss 'https://registry.example', not 'https://registry.elsewhere'" in refused(verifier, registry)


def test_a_list_signed_by_a_key_outside_the_registrys_jwks_is_refused(verifier, registry, which):
    stranger = ec.generate_private_key(ec.SECP256R1())
    serve(registry, which, registry.sign(payload_of(registry, which), TYPS[which], key=stranger, kid="stranger"))
    detail = refused(verifier, registry)
    assert detail == f"{NAMES[which]} is signed with key 'stranger', which is not in the registry's JWKS"


def test_a_list_with_a_bad_signature_is_refused(verifier, registry, which):
    stranger = ec.generate_private_key(ec.SECP256R1())
    serve(registry, which, registry.sign(payload_of(registry, which), TYPS[which], key=stranger))
    assert refused(verifier, registry) == f"{NAMES[which]}: the signature does not verify with key registry-1"


def test_a_list_whose_header_alg_is_not_its_keys_is_refused(verifier, registry, which):
    token = registry.sign(payload_of(registry, which), TYPS[which], key=b"registry-1-secret-0123456789abcdef",
                          alg="HS256")  # fmt: skip
    serve(registry, which, token)
    assert refused(verifier, registry) == f"{NAMES[which]} says alg 'HS256', but key registry-1 is ES256"


def test_a_list_past_its_exp_is_expired(verifier, registry, which, clock):
    payload = payload_of(registry, which)
    payload["iat"], payload["exp"] = payload["iat"] - 7200, payload["iat"] - 3600
    serve(registry, which, registry.sign(payload, TYPS[which]))
    assert refused(verifier, registry, "lists_expired") == f"{NAMES[which]} expired and could not be refreshed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Service unavailable</html>", "is not a compact JWS"),
        (b"\xff\xfe garbage", "is not a compact JWS"),
        (b"eyJhbGciOiJFUzI1NiJ9.e30", "is not a compact JWS"),
    ],
)
def test_a_list_that_is_not_a_jws_is_refused(verifier, registry, which, body, message):
    serve(registry, which, body)
    assert refused(verifier, registry) == f"{NAMES[which]} {message}"


def test_a_list_whose_payload_is_not_json_is_refused(verifier, registry, which):
    headers = {"kid": "registry-1", "typ": TYPS[which]}
    token = jwt.api_jws.PyJWS().encode(b"not json", registry.key, algorithm="ES256", headers=headers)
    serve(registry, which, token.encode())
    assert refused(verifier, registry) == f"{NAMES[which]} is not a compact JWS with a JSON payload"


def test_an_answer_other_than_200_is_refused(verifier, registry, which):
    registry.documents.pop(LIST_PATHS[which])
    assert refused(verifier, registry).endswith(f"{LIST_PATHS[which]} answered HTTP 404")


def test_an_oversize_response_is_refused_without_reading_it_whole(make_verifier, registry, which):
    verifier = make_verifier(max_response_bytes=4096)
    serve(registry, which, b"x" * 5000)
    assert refused(verifier, registry).endswith(f"{LIST_PATHS[which]} is larger than 4096 bytes")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(authorities="all"), "authorities must be a list of objects"),
        (lambda p: p.update(sequence="3"), "sequence must be an integer"),
        (lambda p: p["authorities"][1].update(country="Chile"), "authority 2: country must be an ISO 3166-1"),
        (lambda p: p["authorities"][1]["jwks"]["keys"][0].update(not_before="yesterday"), "authority 2: not_before"),
        (lambda p: p["authorities"][1]["jwks"]["keys"][0].update(x="AAAA"), "authority 2: key 'cl-1' is not usable"),
        (lambda p: p["authorities"][1]["recognized_for"][0].update(agreement_id="7"), "agreement_id must be"),
    ],
)
def test_a_malformed_trust_list_is_refused(verifier, registry, change, message):
    payload = registry.trust_list_payload()
    change(payload)
    serve(registry, "trust", registry.sign(payload, "trust-list+jwt"))
    detail = refused(verifier, registry)
    assert detail.startswith("the trust list of CN is malformed: ")
    assert message.split(" is not usable")[0] in detail


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(ttl=0), "ttl must be a positive integer"),
        (lambda p: p.update(merchants=[{"issuer": "x", "registration_number": "1", "status": "active"}]), "status"),
        (lambda p: p.update(credentials={}), "credentials must be a list of objects"),
    ],
)
def test_a_malformed_merchant_status_list_is_refused(verifier, registry, change, message):
    payload = registry.merchant_status_payload("CL")
    change(payload)
    serve(registry, "merchants", registry.sign(payload, "merchant-status+jwt"))
    assert message in refused(verifier, registry)


def gigabyte_of_zeros() -> bytes:
    """A complete ZLIB stream (RFC 1950) of 1 GiB of zeros in about 1 MiB,
    made without compressing a gigabyte: after a full flush each deflate
    block of 1 MiB of zeros is the same bytes, so it is repeated; the
    stream ends with an empty final block and the Adler-32 of n zeros,
    which is (n mod 65521) << 16 | 1."""
    chunk, count = b"\0" * (1024 * 1024), 1024
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)  # with the 2-byte header
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = ((len(chunk) * count) % 65521) << 16 | 1
    return first + block * (count - 1) + b"\x03\x00" + struct.pack(">I", adler)


def test_the_gigabyte_stream_is_a_real_one():
    inflater = zlib.decompressobj()
    head = inflater.decompress(gigabyte_of_zeros(), 64 * 1024 * 1024)
    assert head == b"\0" * (64 * 1024 * 1024)
    assert inflater.unconsumed_tail  # and more to come


def test_a_status_list_that_inflates_to_gigabytes_costs_a_few_megabytes(make_verifier, registry):
    """The verifier inflates at most its bound (here 1 MiB) and gives up,
    without allocating the rest."""
    bomb = gigabyte_of_zeros()
    assert len(bomb) < 2 * 1024 * 1024
    payload = registry.status_list_payload()
    payload["status_list"]["lst"] = base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    serve(registry, "status", registry.sign(payload, "statuslist+jwt"))
    verifier = make_verifier(max_status_list_bytes=1024 * 1024)
    token = registry.credential(status_index=1)
    verifier.verify(registry.credential())  # the other lists first, outside the measure
    tracemalloc.start()
    try:
        answer = verifier.verify(token)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.codes == ["lists_unavailable"]
    assert answer.reasons[0]["detail"] == "status list 1 is malformed: lst inflates to more than 1048576 bytes"
    assert peak < 16 * 1024 * 1024  # the response (about 2 MiB, base64) and its decoding; never the gigabyte


def test_a_jwks_that_is_not_a_jwk_set_is_refused(verifier, registry):
    registry.documents["/.well-known/jwks.json"] = Served(b'{"keys": "none"}')
    assert refused(verifier, registry) == 'the registry\'s JWKS is not a JWK Set ({"keys": [...]})'


def test_a_jwks_without_an_allowed_key_is_refused(verifier, registry):
    rsa_like = {**public_jwk(registry.key, "registry-1", "ES256"), "alg": "RS256"}
    registry.documents["/.well-known/jwks.json"] = Served(json.dumps({"keys": [rsa_like]}).encode())
    assert refused(verifier, registry) == "the registry's JWKS has no ES256 or EdDSA key"


def test_a_registry_that_cannot_be_reached_is_lists_unavailable(clock, registry):
    from merchant_verifier import Verifier

    verifier = Verifier("http://127.0.0.1:9", "CN", clock=clock, timeout=2)  # the discard port: nothing listens
    detail = refused(verifier, registry)
    assert detail.startswith("the trust list of CN: cannot reach http://127.0.0.1:9/api/v1/trust-lists/CN/")


def test_a_redirect_is_not_followed(verifier, registry):
    registry.documents["/api/v1/trust-lists/CN/"] = Served(b"", 302, {"Location": "https://attacker.example/list"})
    assert refused(verifier, registry).endswith("/api/v1/trust-lists/CN/ answered HTTP 302")
