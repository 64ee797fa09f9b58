"""Property tests: whatever the token, the verification API answers 200 with
a rejection made of documented reason codes, writes one audit row saying the
same, and never reports a fact from a token whose signature did not verify.
The pure parser never raises.

No example database is written (database=None): the tree stays clean, and a
failure prints the example that reproduces it."""

import json
import string
import time

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from identity.jose.algorithms import ALLOWED_ALGS
from identity.jose.tokens import ParsedToken, Rejected, parse_token
from identity.reasons import Reason
from recognition.models import Verification
from tests.support.hostile import post_token
from tests.support.tokens import TYP, b64, resign

CODES = frozenset(Reason.values)
# DESIGN §5: these stop the decision at the first failure; the others are
# policy checks, reached only once the signature verified.
STOPPING = frozenset(
    {
        "token_too_large",
        "malformed_token",
        "unsupported_algorithm",
        "wrong_token_type",
        "untrusted_header",
        "missing_kid",
        "unknown_issuer",
        "unknown_key",
        "algorithm_mismatch",
        "invalid_signature",
    }
)
B64URL = string.ascii_letters + string.digits + "-_"

# No "explain" phase: on a failure it replays hundreds of API calls for a hint.
PHASES = [Phase.explicit, Phase.generate, Phase.shrink]
API_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Any code point: lone surrogates and NUL included.
any_character = st.characters(exclude_categories=())
any_text = st.text(any_character, max_size=300)
token_like = st.text(alphabet=B64URL + ".+/= \x00é", max_size=400)
latin1_bytes = st.binary(max_size=300).map(lambda raw: raw.decode("latin-1"))

# Values that broke or could break a layer behind the parser: NUL and lone
# surrogates (database text), numbers beyond a double, lookup-shaped strings.
HOSTILE_SCALARS = [
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff-x",
    "../../etc/passwd",
    "x' OR '1'='1",
    "%",
    10**400,
    -(10**400),
    2**64,
    1e308,
    -0.0,
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(any_character, max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(any_character, max_size=8), children),
    max_leaves=15,
)
# What a member is when it is not the well-formed value: half the time one
# of the hostile scalars, otherwise any JSON value.
other = st.sampled_from(HOSTILE_SCALARS) | json_values


def mostly(good: st.SearchStrategy, otherwise: st.SearchStrategy) -> st.SearchStrategy:
    """`good` seven times in ten, else `otherwise`: enough well-formed members to
    carry examples past the parser and into the decision."""
    return st.integers(0, 9).flatmap(lambda n: good if n < 7 else otherwise)


def with_extras(members: st.SearchStrategy) -> st.SearchStrategy:
    extras = st.dictionaries(st.text(any_character, max_size=8), json_values, max_size=3)
    return st.builds(lambda fixed, more: {**more, **fixed}, members, extras)


# "<KID>", "<ISS>" and "<NAME>" become the fixture actor's own values; iat
# and exp are offsets from the clock.
headers = with_extras(
    st.fixed_dictionaries(
        {
            "alg": mostly(st.just("EdDSA"), st.sampled_from(["ES256", "RS256", "none", "HS256", "EDDSA"]) | other),
            "typ": mostly(st.just(TYP), st.sampled_from(["application/" + TYP, "JWT"]) | other),
            "kid": mostly(st.just("<KID>"), other),
        },
        optional={"jku": st.just("https://attacker.test/jwks.json")},
    )
)
merchants = st.fixed_dictionaries(
    {
        "legal_name": mostly(st.just("<NAME>"), other),
        "registration_number": mostly(st.just("CL-0001"), other),
        "country": mostly(st.just("CL"), other),
    },
    optional={"lei": json_values},
)
offsets = st.integers(-(10**9), 10**9)
claim_sets = with_extras(
    st.fixed_dictionaries(
        {
            "iss": mostly(st.just("<ISS>"), other),
            "sub": mostly(st.just("CL-0001"), other),
            "jti": mostly(st.uuids().map(str), other),
            "iat": mostly(st.just(-60), offsets | other),
            "exp": mostly(st.just(86_400), offsets | other),
            "credential_type": mostly(st.just("merchant-identity"), other),
            "assurance": mostly(st.sampled_from(["low", "substantial"]), other),
            "merchant": mostly(merchants, other),
        },
        optional={"nbf": offsets | other},
    )
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


@settings(max_examples=3000, deadline=None, database=None, phases=PHASES)
@given(token=any_text | token_like | latin1_bytes)
def test_parse_token_never_raises_on_arbitrary_text(token):
    result = parse_token(token, max_bytes=256)
    assert isinstance(result, ParsedToken | Rejected)
    if isinstance(result, Rejected):
        assert result.reason in CODES and isinstance(result.detail, str)


@settings(max_examples=500, deadline=None, database=None, phases=PHASES)
@given(header=headers, claims=claim_sets, signature=st.binary(max_size=100))
def test_parse_token_never_raises_on_random_json_segments(header, claims, signature):
    segments = [b64(json.dumps(part).encode("utf-8", "surrogatepass")) for part in (header, claims)]
    result = parse_token(".".join([*segments, b64(signature)]), max_bytes=8192)
    assert isinstance(result, ParsedToken | Rejected)
    if isinstance(result, ParsedToken):
        # whatever got through has a well-typed header of the allow-list
        assert result.alg in ALLOWED_ALGS and isinstance(result.kid, str) and result.kid
        assert isinstance(result.claims, dict) and result.signature == signature
    event(f"parsed: {type(result).__name__}")
