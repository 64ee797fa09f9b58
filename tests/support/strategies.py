"""Hypothesis strategies for tokens and their parts: arbitrary text and
bytes, token-shaped text, and header and claim sets that are mostly
well-formed, their members otherwise hostile values or any JSON. Shared by
the property tests of the parser (tests/identity/jose/) and of the
verification API (tests/api/test_token_property.py); PHASES, the phases
every property test of the suite runs."""

import string

from hypothesis import Phase
from hypothesis import strategies as st

from tests.support.tokens import TYP

B64URL = string.ascii_letters + string.digits + "-_"

# No "explain" phase: on a failure it replays hundreds of API calls for a hint.
PHASES = [Phase.explicit, Phase.generate, Phase.shrink]

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
