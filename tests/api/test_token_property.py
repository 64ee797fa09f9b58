"""Property tests: whatever the token, the verification API answers 200 with
a rejection made of documented reason codes, writes one audit row saying the
same, and never reports a fact from a token whose signature did not verify.
(The pure parser never raises: tests/identity/jose/test_tokens.py.)

No example database is written (database=None): the tree stays clean, and a
failure prints the example that reproduces it."""

import json
import time

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from identity.reasons import Reason
from recognition.models import Verification
from tests.support.hostile import post_token
from tests.support.parity import STOPPING_BEFORE_THE_ISSUER
from tests.support.strategies import PHASES, any_text, claim_sets, headers, latin1_bytes, mostly, token_like
from tests.support.tokens import b64, resign

CODES = frozenset(Reason.values)
# DESIGN §5: these stop the decision at the first failure; the others are
# policy checks, reached only once the signature verified.
STOPPING = STOPPING_BEFORE_THE_ISSUER | {"unknown_issuer", "unknown_key", "algorithm_mismatch", "invalid_signature"}

API_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# At least one defect in every generated claim set: even with the authority's
# genuine signature, nothing generated here may be accepted.
DEFECTS = {
    "no-jti": lambda claims: claims.pop("jti", None),
    "unknown-merchant": lambda claims: claims.update(sub="CL-9999"),
    "expired": lambda claims: claims.update(exp=-3600),
    "unrecognized-type": lambda claims: claims.update(credential_type="export-licence"),
    "foreign-merchant": lambda claims: claims.update(merchant={"country": "CN"}),
}


def _header_text(header: dict, world) -> str:
    return json.dumps(header).replace('"<KID>"', json.dumps(world.cl.key.kid))


def _claims_text(claims: dict, defect: str, world) -> str:
    claims = dict(claims)
    DEFECTS[defect](claims)
    now = int(time.time())
    for name in ("iat", "exp", "nbf"):
        if type(claims.get(name)) is int and abs(claims[name]) <= 10**9:
            claims[name] += now
    text = json.dumps(claims).replace('"<ISS>"', json.dumps(world.cl.authority.issuer))
    return text.replace('"<NAME>"', json.dumps(world.cl.merchant.legal_name))


def _assert_is_a_recorded_rejection(api, token: str) -> None:
    before = Verification.objects.count()
    body = post_token(api, token)
    codes = [reason["code"] for reason in body["reasons"]]
    assert body["accepted"] is False and body["decision"] == "rejected"
    assert codes and set(codes) <= CODES, codes
    assert Verification.objects.count() == before + 1
    assert Verification.objects.get(id=body["id"]).reasons == codes
    facts = (body["issuer"], body["merchant"], body["credential"])
    if STOPPING & set(codes):
        assert len(codes) == 1, f"a structural or cryptographic failure stops the checks: {codes}"
        assert facts == (None, None, None)
    else:
        assert None not in facts
    event(f"first code: {codes[0]}")


@API_SETTINGS
@given(token=any_text | token_like)
def test_api_rejects_arbitrary_text_as_token(world, api, token):
    _assert_is_a_recorded_rejection(api, token)


@API_SETTINGS
@given(token=latin1_bytes)
def test_api_rejects_arbitrary_bytes_as_token(world, api, token):
    _assert_is_a_recorded_rejection(api, token)


@API_SETTINGS
@given(
    header=headers,
    claims=claim_sets,
    defect=st.sampled_from(sorted(DEFECTS)),
    signature=mostly(st.none(), st.binary(max_size=600)),
)
def test_api_rejects_random_json_header_and_payload_with_valid_or_random_signature(
    world, api, header, claims, defect, signature
):
    header_segment = b64(_header_text(header, world).encode("utf-8", "surrogatepass"))
    payload_segment = b64(_claims_text(claims, defect, world).encode("utf-8", "surrogatepass"))
    if signature is None:  # the authority's genuine signature over hostile content
        token = resign(world.cl, header_segment, payload_segment)
    else:
        token = f"{header_segment}.{payload_segment}.{b64(signature)}"
    _assert_is_a_recorded_rejection(api, token)
