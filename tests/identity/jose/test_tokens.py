"""Property tests of the pure token parser (merchant_verifier.tokens, verifier/src): it
never raises, whatever the token; what gets through has a well-typed header
of the allow-list. (The same inputs through the API:
tests/api/test_token_property.py.)

No example database is written (database=None): the tree stays clean, and a
failure prints the example that reproduces it."""

import json

from hypothesis import event, given, settings
from hypothesis import strategies as st

from identity.jose.algorithms import ALLOWED_ALGS
from identity.reasons import Reason
from merchant_verifier.tokens import ParsedToken, Rejected, parse_token
from tests.support.strategies import PHASES, any_text, claim_sets, headers, latin1_bytes, token_like
from tests.support.tokens import b64

CODES = frozenset(Reason.values)


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
