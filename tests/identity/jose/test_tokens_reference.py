"""The hand-written token parser of the hot path (merchant_verifier.tokens) against the
straightforward spelling it replaced (tests/support/reference.py) and against PyJWT,
on the same inputs: every result, every reason and every message agree,
hostile inputs included."""

import base64
import json
import re
import string

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_verifier import tokens as fast
from merchant_verifier.tokens import ParsedToken, Rejected, parse_token
from tests.support import reference
from tests.support.strategies import PHASES, any_text, claim_sets, headers, latin1_bytes, token_like
from tests.support.tokens import TYP, b64

KEY = ed25519.Ed25519PrivateKey.generate()
MAX = 8192
B64URL = string.ascii_letters + string.digits + "-_"
NO_NUL = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)


def same(token: str, max_bytes: int = MAX) -> ParsedToken | Rejected:
    """Both parsers agree on `token`; returns the hand-written one's result."""
    ours, theirs = parse_token(token, max_bytes=max_bytes), reference.parse_token(token, max_bytes=max_bytes)
    assert type(ours) is type(theirs)
    if isinstance(ours, Rejected):
        assert (ours.reason, ours.detail) == (theirs.reason, theirs.detail)
    else:
        assert tuple(ours) == tuple(theirs)
    return ours


def segment(text: str | bytes) -> str:
    return b64(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)


HEADER = json.dumps({"alg": "EdDSA", "typ": TYP, "kid": "k1"})
CLAIMS = json.dumps({"iss": "https://issuer.test/", "sub": "S-1", "iat": 1700000000, "exp": 1700086400})
SIGNATURE = b64(b"\x01" * 64)


def token_of(header: str | bytes = HEADER, claims: str | bytes = CLAIMS, signature: str = SIGNATURE) -> str:
    return f"{segment(header)}.{segment(claims)}.{signature}"


def with_last(text: str, last: str) -> str:
    return text[:-1] + last


HOSTILE = {
    "well formed": token_of(),
    "duplicate alg": token_of(f'{{"alg":"EdDSA","alg":"none","typ":"{TYP}","kid":"k"}}'),
    "duplicate claim": token_of(claims='{"iss":"a","iss":"b"}'),
    "duplicate nested": token_of(claims='{"merchant":{"country":"CL","country":"CN"}}'),
    "NaN": token_of(claims='{"exp": NaN}'),
    "Infinity": token_of(claims='{"exp": -Infinity}'),
    "1e400": token_of(claims='{"exp": 1e400}'),
    "10**400": token_of(claims='{"exp": %s}' % ("1" + "0" * 400)),
    "15 digits": token_of(claims='{"exp": 999999999999999}'),
    "16 digits": token_of(claims='{"exp": 9999999999999999}'),
    "float": token_of(claims='{"exp": 1.5e9}'),
    "NUL escape": token_of(claims='{"sub": "a\\u0000b"}'),
    "NUL escape in a name": token_of(claims='{"a\\u0000": 1}'),
    "lone surrogate": token_of(claims='{"sub": "\\ud800"}'),
    "surrogate pair": token_of(claims='{"sub": "\\ud83d\\ude00"}'),
    "escaped backslash u": token_of(claims='{"sub": "\\\\u0000"}'),
    "raw NUL": token_of(claims=b'{"sub": "a\x00b"}'),
    "raw control": token_of(claims=b'{"sub": "a\x01b"}'),
    "not UTF-8": token_of(claims=b'{"sub": "\xff"}'),
    "encoded surrogate": token_of(claims=b'{"sub": "\xed\xa0\x80"}'),
    "BOM": token_of(claims="\ufeff" + CLAIMS),
    "not an object": token_of(claims="[1, 2]"),
    "header not an object": token_of(header='"EdDSA"'),
    "deep nesting": token_of(claims="[" * 2000 + "]" * 2000),
    "empty header": f".{segment(CLAIMS)}.{SIGNATURE}",
    "empty payload": f"{segment(HEADER)}..{SIGNATURE}",
    "empty signature": f"{segment(HEADER)}.{segment(CLAIMS)}.",
    "two parts": f"{segment(HEADER)}.{segment(CLAIMS)}",
    "four parts": token_of() + ".x",
    "padding": token_of(signature=b64(b"\x01" * 64) + "=="),
    "plus": token_of(signature="+" + SIGNATURE[1:]),
    "slash": token_of(signature="/" + SIGNATURE[1:]),
    "space": token_of(signature=" " + SIGNATURE[1:]),
    "newline": token_of(signature=SIGNATURE[:10] + "\n" + SIGNATURE[10:]),
    "one mod four": token_of(signature=SIGNATURE + "A"),
    "non-ASCII": token_of() + "é",
    "alg none": token_of(json.dumps({"alg": "none", "typ": TYP, "kid": "k"})),
    "alg EDDSA": token_of(json.dumps({"alg": "EDDSA", "typ": TYP, "kid": "k"})),
    "alg number": token_of(json.dumps({"alg": 1, "typ": TYP, "kid": "k"})),
    "kid number": token_of(json.dumps({"alg": "EdDSA", "typ": TYP, "kid": 7})),
    "typ JWT": token_of(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": "k"})),
    "typ application/": token_of(json.dumps({"alg": "EdDSA", "typ": "application/" + TYP.upper(), "kid": "k"})),
    "jku": token_of(json.dumps({"alg": "EdDSA", "typ": TYP, "kid": "k", "jku": "https://x.test/"})),
    "no kid": token_of(json.dumps({"alg": "EdDSA", "typ": TYP})),
    "empty kid": token_of(json.dumps({"alg": "EdDSA", "typ": TYP, "kid": ""})),
    "long header": token_of(json.dumps({"alg": "EdDSA", "typ": TYP, "kid": "k" * 600})),
    "too large": token_of(claims=json.dumps({"pad": "x" * 9000})),
}
# Every unused-bits spelling of the last character, for lengths 2 and 3 (mod 4).
for size in (1, 2):
    text = b64(b"\x00" * size)
    for last in B64URL:
        HOSTILE[f"trailing bits {size} {last}"] = token_of(signature=with_last(text, last))


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_tokens_parse_as_the_reference_does(name):
    same(HOSTILE[name])


def test_a_tiny_limit_is_checked_first_by_both():
    assert same(token_of(), max_bytes=64).reason == "token_too_large"


@settings(max_examples=3000, deadline=None, database=None, phases=PHASES)
@given(token=any_text | token_like | latin1_bytes)
def test_arbitrary_text_parses_as_the_reference_does(token):
    same(token, max_bytes=256)


@settings(max_examples=1000, deadline=None, database=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(header=headers, claims=claim_sets, signature=st.binary(max_size=100))
def test_random_json_segments_parse_as_the_reference_does(header, claims, signature):
    parts = [b64(json.dumps(part).encode("utf-8", "surrogatepass")) for part in (header, claims)]
    same(".".join([*parts, b64(signature)]))


@settings(max_examples=3000, deadline=None, database=None, phases=PHASES)
@given(text=st.text(alphabet=B64URL, max_size=40) | st.text(alphabet=string.printable + "\x00", max_size=40))
def test_base64url_segments_decode_as_the_reference_does(text):
    try:
        expected = reference.b64url(text, "header")
    except fast._Malformed as exc:
        with pytest.raises(fast._Malformed, match=re.escape(str(exc))):
            fast._b64url(text, "header")
    else:
        assert fast._b64url(text, "header") == expected


@settings(max_examples=300, deadline=None, database=None, phases=PHASES)
@given(claims=st.dictionaries(NO_NUL, st.integers(-(2**63), 2**63) | NO_NUL | st.booleans(), max_size=6))
def test_signed_tokens_give_the_header_and_claims_pyjwt_gives(claims):
    # (U+0000 is refused here and accepted by PyJWT: a deliberate difference, tested above.)
    token = jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": "k1", "typ": TYP})
    parsed = same(token)
    assert isinstance(parsed, ParsedToken)
    assert parsed.header == jwt.get_unverified_header(token)
    assert parsed.claims == jwt.decode(token, options={"verify_signature": False})
    header, payload, signature = token.split(".")
    assert parsed.signature == jwt.utils.base64url_decode(signature)
    assert parsed.signing_input == f"{header}.{payload}".encode()
    KEY.public_key().verify(parsed.signature, parsed.signing_input)


def test_a_cached_header_is_never_shared_between_tokens():
    first, second = parse_token(token_of(), max_bytes=MAX), parse_token(token_of(), max_bytes=MAX)
    first.header["kid"] = "changed"
    assert second.header["kid"] == "k1"
    assert parse_token(token_of(), max_bytes=MAX).header["kid"] == "k1"


def test_canonical_last_characters_are_those_whose_unused_bits_are_zero():
    for rest, unused in ((2, 4), (3, 2)):
        alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
        zero = {char for value, char in enumerate(alphabet) if value % (1 << unused) == 0}
        assert fast._CANONICAL_LAST[rest] == zero
    assert base64.urlsafe_b64encode(b"\xff").rstrip(b"=").decode()[-1] in fast._CANONICAL_LAST[2]
