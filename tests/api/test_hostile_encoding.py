"""Hostile encodings through the HTTP API (DESIGN §5 malformed_token and
token_too_large; RFC 7515 §2, §7.1; RFC 7493; RFC 8259): parser-differential
JSON, non-finite numbers, loose base64url, bad UTF-8, wrong shapes and sizes.
Most are validly signed with the authority's own key (tests.support.tokens.resign),
so nothing but the encoding can be the reason for the rejection."""

import base64
import json

import pytest

import merchant_verifier.tokens as token_module
from tests.support.hostile import assert_accepted, assert_rejected, header_for
from tests.support.tokens import DROP, TYP, claims_for, resign, segment, sign

MALFORMED = ["malformed_token"]


def _claims_text(world, *, before_end: str = "") -> str:
    """The JSON text of CL's claims, with `before_end` spliced in as the
    last members."""
    return json.dumps(claims_for(world.cl))[:-1] + before_end + "}"


def _signed_text(world, header_text: str | bytes, payload_text: str | bytes) -> str:
    return resign(world.cl, segment(header_text), segment(payload_text))


def test_control_hand_assembled_credential_is_accepted(world, api):
    # The tests below change one thing in exactly this token.
    header, claims = json.dumps(header_for(world.cl)), json.dumps(claims_for(world.cl))
    assert_accepted(api, _signed_text(world, header, claims))


# Parser differentials: duplicate member names (RFC 8259 §4, RFC 7515 §5.2) ---


def test_rejects_duplicate_alg_in_the_header(world, api):
    header = f'{{"alg":"EdDSA","alg":"EdDSA","typ":"{TYP}","kid":"{world.cl.key.kid}"}}'
    assert_rejected(api, _signed_text(world, header, json.dumps(claims_for(world.cl))), MALFORMED)


def test_rejects_duplicate_kid_in_the_header(world, api):
    header = f'{{"alg":"EdDSA","typ":"{TYP}","kid":"{world.kz.key.kid}","kid":"{world.cl.key.kid}"}}'
    assert_rejected(api, _signed_text(world, header, json.dumps(claims_for(world.cl))), MALFORMED)


@pytest.mark.parametrize(
    "extra",
    [', "iss": "https://registro-cl.test/issuer"', ', "iss": "https://egov-kz.test/issuer"', ', "exp": 1'],
)
def test_rejects_duplicate_claim_names_in_the_payload(world, api, extra):
    payload = _claims_text(world, before_end=extra)
    assert_rejected(api, _signed_text(world, json.dumps(header_for(world.cl)), payload), MALFORMED)


def test_rejects_duplicate_member_names_in_a_nested_claim(world, api):
    payload = _claims_text(world).replace('"country": "CL"', '"country": "CL", "country": "CN"')
    assert '"country": "CN"' in payload
    assert_rejected(api, _signed_text(world, json.dumps(header_for(world.cl)), payload), MALFORMED)


# NumericDates (DESIGN §4: JSON numbers, never strings) ---------------------


@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
@pytest.mark.parametrize("value", ["1700000000", True])
def test_rejects_numericdate_that_is_not_a_number_as_invalid_claim(world, api, claim, value):
    assert_rejected(api, sign(world.cl, **{claim: value}), ["invalid_claim"], verified=True)


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400],
    ids=["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "10**400"],
)
@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_rejects_non_finite_numbers_in_the_payload(world, api, literal, claim):
    # 1e400 and a 401-digit integer are no IEEE 754 double: as NumericDates
    # they are infinite (DESIGN §5 "non-finite numbers").
    payload = json.dumps({**claims_for(world.cl), claim: "NUMBER"}).replace('"NUMBER"', literal)
    assert_rejected(api, _signed_text(world, json.dumps(header_for(world.cl)), payload), MALFORMED)


def test_rejects_non_finite_number_in_the_header(world, api):
    header = json.dumps(header_for(world.cl))[:-1] + ', "x": NaN}'
    assert_rejected(api, _signed_text(world, header, json.dumps(claims_for(world.cl))), MALFORMED)


@pytest.mark.parametrize("value", [["merchant-identity"], {"code": "merchant-identity"}])
def test_answers_credential_type_of_the_wrong_type_like_a_missing_one(world, api, value):
    expected = ["invalid_claim", "credential_type_not_recognized"]
    assert_rejected(api, sign(world.cl, credential_type=DROP), expected, verified=True)
    assert_rejected(api, sign(world.cl, credential_type=value), expected, verified=True)


# base64url (RFC 7515 §2: URL alphabet, no padding, canonical) ---------------


@pytest.mark.parametrize("part", [0, 1, 2])
@pytest.mark.parametrize("character", ["+", "/", "="])
def test_rejects_standard_base64_characters_in_any_segment(world, api, part, character):
    parts = sign(world.cl).split(".")
    parts[part] = parts[part][:-1] + character if character == "=" else character + parts[part][1:]
    assert_rejected(api, ".".join(parts), MALFORMED)


def test_rejects_a_validly_signed_token_in_standard_base64_with_padding(world, api):
    def encode(data: bytes) -> str:
        return base64.standard_b64encode(data).decode("ascii")

    for _ in range(100):  # until the standard alphabet differs visibly
        header = encode(json.dumps(header_for(world.cl)).encode())
        payload = encode(json.dumps(claims_for(world.cl)).encode())
        signing_input = f"{header}.{payload}"
        token = f"{signing_input}.{encode(world.cl.private_key.sign(signing_input.encode('ascii')))}"
        if "+" in token or "/" in token:
            break
    assert ("+" in token or "/" in token) and token.endswith("==")
    assert_rejected(api, token, MALFORMED)


def _non_canonical(segment_text: str) -> str:
    """The same bytes spelled with non-zero unused trailing bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(segment_text) % 4 in (2, 3), "a segment with unused trailing bits"
    altered = segment_text[:-1] + alphabet[alphabet.index(segment_text[-1]) | 1]
    decode = base64.urlsafe_b64decode
    assert decode(altered + "==") == decode(segment_text + "==") and altered != segment_text
    return altered


def test_rejects_signature_with_non_canonical_trailing_bits(world, api):
    token = sign(world.cl)
    assert_accepted(api, token)
    signing_input, _, signature = token.rpartition(".")
    assert_rejected(api, f"{signing_input}.{_non_canonical(signature)}", MALFORMED)


def test_rejects_payload_with_non_canonical_trailing_bits(world, api):
    claims = claims_for(world.cl, pad="")
    while len(segment(claims)) % 4 not in (2, 3):
        claims["pad"] += "x"
    header = segment(header_for(world.cl))
    assert_accepted(api, resign(world.cl, header, segment(claims)))
    assert_rejected(api, resign(world.cl, header, _non_canonical(segment(claims))), MALFORMED)


# Shape: three parts, each a UTF-8 JSON object -------------------------------


@pytest.mark.parametrize("token", ["", ".", "..", "...", "....", "a.b", "a.b.c.d", "a..c", "eyJ9"])
def test_rejects_tokens_without_three_base64url_parts(world, api, token):
    assert_rejected(api, token, MALFORMED)


def test_rejects_a_genuine_token_with_two_or_four_segments(world, api):
    token = sign(world.cl)
    header, payload, signature = token.split(".")
    assert_rejected(api, f"{header}.{payload}", MALFORMED)
    assert_rejected(api, f"{token}.{signature}", MALFORMED)
    assert_rejected(api, f"{header}.{payload}..{signature}", MALFORMED)


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80"])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_rejects_invalid_utf8(world, api, bad, where):
    # invalid bytes, a truncated sequence, an overlong "/", a CESU-8 surrogate
    header = json.dumps(header_for(world.cl)).encode()
    payload = json.dumps(claims_for(world.cl)).encode()
    if where == "header":
        header = header[:-1] + b', "x": "' + bad + b'"}'
    else:
        payload = payload[:-1] + b', "x": "' + bad + b'"}'
    assert_rejected(api, _signed_text(world, header, payload), MALFORMED)


@pytest.mark.parametrize("text", ['["EdDSA"]', '"EdDSA"', "null", "42", "true", "", " "])
def test_rejects_header_that_is_not_a_json_object(world, api, text):
    assert_rejected(api, _signed_text(world, text, json.dumps(claims_for(world.cl))), MALFORMED)


@pytest.mark.parametrize("text", ["[]", '"a string"', "null", "1700000000", '{"iss": "x"} trailing'])
def test_rejects_payload_that_is_not_a_json_object(world, api, text):
    assert_rejected(api, _signed_text(world, json.dumps(header_for(world.cl)), text), MALFORMED)


@pytest.mark.parametrize(
    "members", [{"kid": 123}, {"alg": ["EdDSA"]}, {"typ": None}, {"kid": None}, {"alg": None}, {"typ": {"x": 1}}]
)
def test_rejects_header_member_of_the_wrong_type(world, api, members):
    header = header_for(world.cl, **members)
    assert_rejected(api, _signed_text(world, json.dumps(header), json.dumps(claims_for(world.cl))), MALFORMED)


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("header", '"kid": "a\\u0000b"'),
        ("header", '"kid": "\\udc00"'),
        ("payload", '"iss": "https://registro-cl.test/issuer\\u0000"'),
        ("payload", '"sub": "\\ud800"'),
        ("payload", '"merchant": {"legal_name": "\\ud83d", "registration_number": "CL-0001", "country": "CL"}'),
        ("payload", '"extra": ["\\u0000"]'),
    ],
)
def test_rejects_nul_and_unpaired_surrogates_anywhere(world, api, where, text):
    # Neither can be stored in a database text column nor spelled in UTF-8
    # (RFC 7493 §2.1); before the fix both were a 500.
    header = json.dumps({key: value for key, value in header_for(world.cl).items() if f'"{key}"' not in text})
    payload = json.dumps({key: value for key, value in claims_for(world.cl).items() if f'"{key}"' not in text})
    if where == "header":
        header = header[:-1] + ", " + text + "}"
    else:
        payload = payload[:-1] + ", " + text + "}"
    assert_rejected(api, _signed_text(world, header, payload), MALFORMED)


def test_accepts_a_paired_surrogate_escape(world, api):
    legal_name = world.cl.merchant.legal_name
    claims = claims_for(world.cl)
    claims["merchant"]["legal_name"] = legal_name + " \U0001f600"
    payload = json.dumps(claims)  # ensure_ascii: "\ud83d\ude00", a valid pair
    assert "\\ud83d\\ude00" in payload
    assert_accepted(api, _signed_text(world, json.dumps(header_for(world.cl)), payload))


@pytest.mark.parametrize("change", ["append-accent", "fullwidth", "zero-width-space", "lone-surrogate", "nul"])
def test_rejects_non_ascii_or_control_characters_in_the_token_string(world, api, change):
    token = sign(world.cl)
    hostile = {
        "append-accent": token + "é",
        "fullwidth": "\uff45" + token[1:],
        "zero-width-space": token[:10] + "\u200b" + token[10:],
        "lone-surrogate": token + "\ud800",
        "nul": token + "\u0000",
    }[change]
    assert_rejected(api, hostile, MALFORMED)


# Size (DESIGN §5: checked before any parsing) --------------------------------


def test_rejects_token_one_byte_over_the_cap(world, api, settings):
    cap = settings.REGISTRY["MAX_TOKEN_BYTES"]
    assert_rejected(api, "a" * (cap + 1), ["token_too_large"])


def test_size_cap_is_checked_before_any_parsing(world, api, settings, monkeypatch):
    cap = settings.REGISTRY["MAX_TOKEN_BYTES"]

    def must_not_parse(token: str) -> None:
        raise AssertionError("an oversized token reached the parser")

    monkeypatch.setattr(token_module, "_parse_structure", must_not_parse)
    assert_rejected(api, "a" * (cap + 1), ["token_too_large"])
    assert_rejected(api, sign(world.cl, pad="x" * cap), ["token_too_large"])


def test_size_cap_counts_utf8_bytes_not_characters(world, api, settings):
    cap = settings.REGISTRY["MAX_TOKEN_BYTES"]
    token = "é" * (cap // 2 + 1)
    assert len(token) <= cap < len(token.encode("utf-8"))
    assert_rejected(api, token, ["token_too_large"])


def test_token_exactly_at_the_cap_is_parsed(world, api, settings):
    cap = settings.REGISTRY["MAX_TOKEN_BYTES"]
    assert_rejected(api, "a" * cap, MALFORMED)


def _padded_token(world, spaces: int, length: int) -> str:
    """The shortest genuine token of at least `length` characters (a `pad`
    claim, which is ignored, found by bisection)."""
    header = segment(json.dumps(header_for(world.cl)) + " " * spaces)
    claims = claims_for(world.cl)

    def build(pad: int) -> str:
        return resign(world.cl, header, segment({**claims, "pad": "x" * pad}))

    low, high = 0, length
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if len(build(middle)) < length else (low, middle)
    return build(low)


def test_genuine_token_exactly_at_the_cap_is_accepted(world, api, settings):
    cap = settings.REGISTRY["MAX_TOKEN_BYTES"]
    # base64url never has a length of 4k+1: trailing spaces in the header
    # (valid JSON) shift the lengths until one fits exactly.
    candidates = [_padded_token(world, spaces, cap) for spaces in range(3)]
    token = next(token for token in candidates if len(token) == cap)
    assert_accepted(api, token)
    assert_rejected(api, token + "A", ["token_too_large"])


# Resource exhaustion -------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize("nested", ["[" * 3000, '[{"":' * 900], ids=["arrays", "arrays-and-objects"])
def test_rejects_deeply_nested_json_within_the_cap(world, api, settings, where, nested):
    header, payload = json.dumps(header_for(world.cl)), json.dumps(claims_for(world.cl))
    if where == "header":
        header = header[:-1] + ', "x": ' + nested + "}"
    else:
        payload = payload[:-1] + ', "x": ' + nested + "}"
    token = _signed_text(world, header, payload)
    assert len(token) <= settings.REGISTRY["MAX_TOKEN_BYTES"]
    assert_rejected(api, token, MALFORMED)


def test_rejects_huge_integer_literal_without_a_500(world, api):
    # Python refuses int() of more than 4300 digits; that must be a rejection.
    payload = _claims_text(world, before_end=', "x": ' + "9" * 5000)
    assert_rejected(api, _signed_text(world, json.dumps(header_for(world.cl)), payload), MALFORMED)
