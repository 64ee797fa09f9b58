"""Request handling of POST /api/v1/verifications/ and .../batch/ (DESIGN §5,
§10): 200 for both outcomes and the answer field for field; every request
that is not of the documented shape is a 400 {"error", "detail"} naming the
problem and records nothing; 401/403 for callers; 405, 413, 415, 429, 503;
never a 500 or a traceback."""

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_create
from identity.services.keys import key_mark_compromised
from identity.services.merchants import merchant_suspend
from recognition.api import verifications as views
from recognition.api.parsers import JSONBodyParser
from recognition.api.serializers import VerificationRequestSerializer
from recognition.models import Verification
from tests.support.actors import PASSWORD
from tests.support.api import BATCH_URL, VERIFY_URL, error_of, session
from tests.support.audit import audit_of
from tests.support.tokens import sign

MIB = 1024 * 1024
ENDPOINTS = [VERIFY_URL, BATCH_URL]


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def iso(value: datetime | int) -> str:
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, tz=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def one_request(world) -> dict:
    return {"token": sign(world.cl), "destination": "CN", "origin": "CL"}


# Both outcomes: 200, field for field -----------------------------------------


def test_accepted_answer_field_for_field(world, api):
    token = sign(world.cl)
    claims = jwt.decode(token, options={"verify_signature": False})
    response = api.verify(token, "CN", "CL")
    assert response.status_code == 200
    record = Verification.objects.get()
    agreement = world.cn_recognizes_cl
    body = response.json()
    assert body == {
        "id": str(record.id),
        "decision": "accepted",
        "accepted": True,
        "reasons": [],
        "origin": "CL",
        "destination": "CN",
        "evaluated_at": iso(record.created_at),
        "issuer": {"issuer": "https://registro-cl.test/issuer", "name": world.cl.authority.name, "country": "CL"},
        "merchant": {"registration_number": "CL-0001", "legal_name": world.cl.merchant.legal_name, "status": "active"},
        "credential": {
            "jti": claims["jti"],
            "type": "merchant-identity",
            "assurance": "substantial",
            "issued_at": iso(claims["iat"]),
            "expires_at": iso(claims["exp"]),
        },
        "agreement": {
            "id": agreement.id,
            "legal_basis": agreement.legal_basis,
            "valid_from": iso(agreement.valid_from),
            "valid_until": None,
        },
        "audit": audit_of(record, body["audit"]),
    }
    assert (record.client, record.decision, record.agreement_id) == ("shop-platform", "accepted", agreement.id)


def test_rejection_of_a_verified_token_is_a_200_answer_with_the_verified_facts(world, api):
    token = sign(world.kz)  # KZ is recognized by nobody
    claims = jwt.decode(token, options={"verify_signature": False})
    response = api.verify(token, "CN", "KZ")
    assert response.status_code == 200
    record = Verification.objects.get()
    body = response.json()
    assert body == {
        "id": str(record.id),
        "decision": "rejected",
        "accepted": False,
        "reasons": [{"code": "no_agreement", "detail": body["reasons"][0]["detail"]}],
        "origin": "KZ",
        "destination": "CN",
        "evaluated_at": iso(record.created_at),
        "issuer": {"issuer": "https://egov-kz.test/issuer", "name": world.kz.authority.name, "country": "KZ"},
        "merchant": {"registration_number": "KZ-0001", "legal_name": world.kz.merchant.legal_name, "status": "active"},
        "credential": {
            "jti": claims["jti"],
            "type": "merchant-identity",
            "assurance": "substantial",
            "issued_at": iso(claims["iat"]),
            "expires_at": iso(claims["exp"]),
        },
        "agreement": None,
        "audit": audit_of(record, body["audit"]),
    }
    assert "CN" in body["reasons"][0]["detail"]


def test_rejection_of_an_unverified_token_echoes_no_claim_and_not_the_declared_origin(world, api):
    forged = sign(world.cl)[:-6] + "AAAAAA"
    response = api.verify(forged, "CN", "CL")
    assert response.status_code == 200
    body = response.json()
    record = Verification.objects.get()
    assert (body["decision"], body["accepted"]) == ("rejected", False)
    assert [reason["code"] for reason in body["reasons"]] == ["invalid_signature"]
    assert body["origin"] is None
    assert body["issuer"] is body["merchant"] is body["credential"] is body["agreement"] is None
    assert body["audit"] == audit_of(record, body["audit"])
    # The audit row keeps what was declared and claimed, as evidence, and
    # records no origin: nothing proved one.
    assert (record.origin, record.declared_origin, record.issuer, record.subject) == (
        "",
        "CL",
        "https://registro-cl.test/issuer",
        "CL-0001",
    )


def test_batch_answers_one_result_per_item_in_request_order(world, api):
    items = [
        {"token": sign(world.cl), "destination": "CN", "origin": "CL"},
        {"token": "not-a-jws", "destination": "CN"},
        {"token": sign(world.cn), "destination": "CN", "origin": None},
        {"token": sign(world.kz), "destination": "CN"},
    ]
    response = api.post(BATCH_URL, {"items": items})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results"}
    results = body["results"]
    records = [Verification.objects.get(id=result["id"]) for result in results]
    assert Verification.objects.count() == len(items)
    assert [record.token_sha256 for record in records] == [
        hashlib.sha256(item["token"].encode()).hexdigest() for item in items
    ]
    expected = [audit_of(record, result["audit"]) for record, result in zip(records, results, strict=True)]
    assert [result["audit"] for result in results] == expected
    assert [result["decision"] for result in results] == ["accepted", "rejected", "accepted", "rejected"]
    assert [[r["code"] for r in result["reasons"]] for result in results] == [
        [],
        ["malformed_token"],
        [],
        ["no_agreement"],
    ]
    assert [result["origin"] for result in results] == ["CL", None, "CN", "KZ"]
    assert len({result["evaluated_at"] for result in results}) == 1  # one instant for the whole batch
    single = api.verify(sign(world.cl), "CN", "CL").json()
    assert all(set(result) == set(single) for result in results)


def test_batch_of_one_hundred_items_is_answered(world, api):
    response = api.post(BATCH_URL, {"items": [{"token": "x", "destination": "CN"}] * 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert Verification.objects.count() == 100


@pytest.mark.parametrize("token", ["a\u0000b.c.d", "\ud800.x.y", "", " "])
def test_a_token_string_with_odd_characters_is_a_recorded_rejection(world, api, token):
    # json.dumps writes \u escapes: the server receives exactly this string.
    response = api.post(VERIFY_URL, json.dumps({"token": token, "destination": "CN"}))
    assert response.status_code == 200, response.content
    assert [reason["code"] for reason in response.json()["reasons"]] == ["malformed_token"]
    assert Verification.objects.count() == 1


def test_a_compromised_key_signature_echoes_no_claim_but_lists_every_reason(world, api):
    # The signature verifies, but anyone may hold a compromised key: nothing
    # it signed is a fact, not even the issuer's country.
    token = sign(world.cl, credential_type="export-licence")
    key_mark_compromised(key=world.cl.key)
    merchant_suspend(merchant=world.cl.merchant)

    response = api.verify(token, "CN", "VN")

    assert response.status_code == 200
    body = response.json()
    record = Verification.objects.get()
    assert (body["decision"], body["accepted"]) == ("rejected", False)
    assert [reason["code"] for reason in body["reasons"]] == [
        "key_compromised",
        "merchant_suspended",
        "origin_mismatch",
        "credential_type_not_recognized",
    ]
    assert body["origin"] is body["issuer"] is body["merchant"] is body["credential"] is None
    assert body["audit"] == audit_of(record, body["audit"])
    assert record.reasons == [reason["code"] for reason in body["reasons"]]
    # The row keeps the claims as evidence, and records no origin.
    assert (record.origin, record.declared_origin, record.issuer, record.subject) == (
        "",
        "VN",
        "https://registro-cl.test/issuer",
        "CL-0001",
    )


# 400: not of the documented shape -------------------------------------------

TOKEN = "eyJhbGciOiJFZERTQSJ9.e30.c2ln"

BAD_SINGLE_REQUESTS = [
    ("not JSON", "{token: x", "malformed_request", "JSON parse error"),
    ("truncated JSON", '{"token": "x", "destination": "CN"', "malformed_request", "JSON parse error"),
    ("NaN", '{"token": NaN, "destination": "CN"}', "malformed_request", "JSON parse error"),
    ("not UTF-8", b'{"token": "\xff", "destination": "CN"}', "malformed_request", "JSON parse error"),
    ("deeply nested", '{"token": ' + "[" * 50000 + "]" * 50000 + "}", "malformed_request", "nested too deeply"),
    ("an array", [{"token": TOKEN, "destination": "CN"}], "invalid_request", "expected a JSON object, not an array"),
    ("a string", TOKEN, "invalid_request", "expected a JSON object, not a string"),
    ("a number", 42, "invalid_request", "expected a JSON object, not a number"),
    ("null", None, "invalid_request", "expected a JSON object, not null"),
    ("no token", {"destination": "CN"}, "invalid_request", "token: This field is required."),
    ("token a number", {"token": 1, "destination": "CN"}, "invalid_request", "token: Not a valid string."),
    ("token null", {"token": None, "destination": "CN"}, "invalid_request", "token: This field may not be null."),
    ("token an object", {"token": {"jwt": TOKEN}, "destination": "CN"}, "invalid_request", "token: Not a valid string"),
    ("token a list", {"token": [TOKEN], "destination": "CN"}, "invalid_request", "token: Not a valid string."),
    ("token a boolean", {"token": True, "destination": "CN"}, "invalid_request", "token: Not a valid string."),
    ("no destination", {"token": TOKEN}, "invalid_request", "destination: This field is required."),
    ("unknown destination", {"token": TOKEN, "destination": "XX"}, "invalid_request", "destination: 'XX' is not"),
    ("lower-case destination", {"token": TOKEN, "destination": "cn"}, "invalid_request", "destination: 'cn' is not"),
    ("alpha-3 destination", {"token": TOKEN, "destination": "CHN"}, "invalid_request", "destination: 'CHN' is not"),
    ("padded destination", {"token": TOKEN, "destination": " CN"}, "invalid_request", "destination: ' CN' is not"),
    ("destination a number", {"token": TOKEN, "destination": 156}, "invalid_request", "destination: Not a valid"),
    ("unknown origin", {"token": TOKEN, "destination": "CN", "origin": "ZZ"}, "invalid_request", "origin: 'ZZ' is"),
    ("lower-case origin", {"token": TOKEN, "destination": "CN", "origin": "cl"}, "invalid_request", "origin: 'cl'"),
    ("blank origin", {"token": TOKEN, "destination": "CN", "origin": ""}, "invalid_request", "origin: "),
    (
        "unknown field",
        {"token": TOKEN, "destination": "CN", "callback": "x"},
        "invalid_request",
        "unknown fields: callback",
    ),
    ("a batch sent to the single endpoint", {"items": []}, "invalid_request", "unknown fields: items"),
]


@pytest.mark.parametrize(
    ("case", "body", "code", "detail"), BAD_SINGLE_REQUESTS, ids=[c[0] for c in BAD_SINGLE_REQUESTS]
)
def test_single_request_not_of_the_documented_shape_is_a_400_naming_the_problem(world, api, case, body, code, detail):
    raw = body if isinstance(body, bytes) or case in {"not JSON", "truncated JSON", "NaN", "deeply nested"} else None
    response = api.post(VERIFY_URL, raw if raw is not None else json.dumps(body))
    assert detail in error_of(response, 400, code)
    assert not Verification.objects.exists()


def test_the_body_is_read_in_the_charset_its_content_type_names(world, api):
    body = json.dumps({"token": sign(world.cl), "destination": "CN"}).encode("utf-16")
    response = api.post(VERIFY_URL, body, content_type="application/json; charset=utf-16")
    assert response.status_code == 200 and response.json()["decision"] == "accepted"


@pytest.mark.parametrize("charset", ["bz2_codec", "zlib_codec"])
def test_a_charset_that_is_not_a_text_encoding_is_refused_before_decoding(world, api, charset):
    # A bytes-to-bytes codec would decompress the body after its size was checked.
    body = b'{"token": "x", "destination": "CN"}'
    response = api.post(VERIFY_URL, body, content_type=f"application/json; charset={charset}")
    assert f'Unsupported charset "{charset}"' in error_of(response, 400, "malformed_request")
    assert not Verification.objects.exists()


def test_unknown_fields_and_field_errors_are_reported_together(world, api):
    detail = error_of(api.post(VERIFY_URL, {"token": 7, "extra": 1, "more": 2}), 400, "invalid_request")
    assert "unknown fields: extra, more" in detail
    assert "token: Not a valid string." in detail
    assert "destination: This field is required." in detail


# Duplicate member names: which one counts is for no parser to guess ------------


def test_a_body_that_repeats_a_member_name_is_a_400_and_nothing_is_decided(world, api):
    token = sign(world.cl)
    assert api.post(VERIFY_URL, f'{{"token": "{token}", "destination": "CN"}}').status_code == 200
    bodies = {
        # Last one wins in Python's json: this was an accepted verification.
        f'{{"token": 5, "token": "{token}", "destination": "CN"}}': "token",
        f'{{"token": "{token}", "token": 5, "destination": "CN"}}': "token",
        f'{{"token": "{token}", "destination": "VN", "destination": "CN"}}': "destination",
        f'{{"token": "{token}", "destination": "CN", "origin": null, "origin": "CL"}}': "origin",
        # At any depth (the unknown member would be a 400 too, but later).
        f'{{"token": "{token}", "destination": "CN", "x": [{{"y": {{"z": 1, "z": 2}}}}]}}': "z",
    }
    for body, name in bodies.items():
        detail = error_of(api.post(VERIFY_URL, body), 400, "malformed_request")
        assert detail == f"JSON parse error - duplicate member name {name!r}", body
    assert Verification.objects.count() == 1


def test_a_batch_item_that_repeats_a_member_name_makes_the_batch_a_400(world, api):
    token = sign(world.cl)
    good = f'{{"token": "{token}", "destination": "CN"}}'
    bad = f'{{"token": "{token}", "destination": "KZ", "destination": "CN"}}'
    for body, name in [
        (f'{{"items": [{good}, {bad}]}}', "destination"),
        (f'{{"items": [{good}], "items": [{good}, {good}]}}', "items"),
    ]:
        detail = error_of(api.post(BATCH_URL, body), 400, "malformed_request")
        assert detail == f"JSON parse error - duplicate member name {name!r}"
    assert not Verification.objects.exists()


def test_a_long_repeated_member_name_is_quoted_only_in_part(world, api):
    name = "n" * 5000
    detail = error_of(api.post(VERIFY_URL, f'{{"{name}": 1, "{name}": 2}}'), 400, "malformed_request")
    assert detail == f"JSON parse error - duplicate member name {name[:100]!r}"


def good_items(world, n: int) -> list[dict]:
    return [{"token": sign(world.cl), "destination": "CN"} for _ in range(n)]


BAD_BATCHES = [
    ("no items", lambda w: {}, "items: This field is required."),
    ("items null", lambda w: {"items": None}, "items: This field may not be null."),
    ("items an object", lambda w: {"items": {"token": TOKEN}}, "items: Expected a list"),
    ("zero items", lambda w: {"items": []}, "items: This list may not be empty."),
    ("101 items", lambda w: {"items": [{"token": TOKEN, "destination": "CN"}] * 101}, "no more than 100"),
    ("items not objects", lambda w: {"items": [TOKEN, 3]}, "items.0: expected a JSON object, not a string"),
    ("one bad item", lambda w: {"items": [*good_items(w, 2), {"token": TOKEN}]}, "items.2.destination: This field is"),
    (
        "an item with an unknown field",
        lambda w: {"items": [{**good_items(w, 1)[0], "x": 1}]},
        "items.0: unknown fields",
    ),
    ("unknown top-level field", lambda w: {"items": good_items(w, 1), "mode": "fast"}, "unknown fields: mode"),
    ("a bare array of requests", lambda w: good_items(w, 2), "expected a JSON object, not an array"),
]


@pytest.mark.parametrize(("case", "make", "detail"), BAD_BATCHES, ids=[c[0] for c in BAD_BATCHES])
def test_batch_not_of_the_documented_shape_is_a_400_and_nothing_is_recorded(world, api, case, make, detail):
    response = api.post(BATCH_URL, make(world))
    assert detail in error_of(response, 400, "invalid_request")
    # All-or-nothing: the good items were neither decided nor recorded.
    assert not Verification.objects.exists()


def test_batch_detail_names_the_index_of_each_bad_item(world, api):
    items = [*good_items(world, 1), {"token": 5, "destination": "CN"}, *good_items(world, 1), {"destination": "cn"}]
    detail = error_of(api.post(BATCH_URL, {"items": items}), 400, "invalid_request")
    assert "items.1.token: Not a valid string." in detail
    assert "items.3.token: This field is required." in detail
    assert "items.3.destination: 'cn' is not" in detail
    assert "items.0" not in detail and "items.2" not in detail


# 415 and 405 ---------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_that_is_not_json_by_content_type_is_a_415(world, api, url, content_type):
    response = api.post(url, "token=x&destination=CN", content_type=content_type)
    assert content_type.split(";")[0] in error_of(response, 415, "unsupported_media_type")
    assert not Verification.objects.exists()


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post_is_allowed(world, api, url, method):
    response = getattr(api.client, method)(url, HTTP_AUTHORIZATION=f"Api-Key {api.key}")
    assert method.upper() in error_of(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


# 401 and 403 ---------------------------------------------------------------


def assert_unauthenticated(response, code: str) -> None:
    error_of(response, 401, code)
    assert response["WWW-Authenticate"] == "Api-Key"
    assert not Verification.objects.exists()


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_key_is_a_401_naming_the_api_key_scheme(world, url):
    assert_unauthenticated(APIClient().post(url, {}, format="json"), "not_authenticated")


@pytest.mark.parametrize(
    "authorization",
    [
        "Api-Key AbCdEfGh.0123456789abcdefghijklmnopqrstuv",  # well formed, unknown
        "Api-Key not-a-key",
        "Api-Key ",
        "Api-Key",
        "Api-Key a\x00b.c",
        "Api-Key " + "x" * 5000,
    ],
)
def test_a_wrong_key_is_a_401(world, authorization):
    response = APIClient().post(VERIFY_URL, {}, format="json", HTTP_AUTHORIZATION=authorization)
    assert_unauthenticated(response, "authentication_failed")


@pytest.mark.parametrize("authorization", ["Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Basic cm9vdDpyb290", "Token abc"])
def test_another_authorization_scheme_is_a_401_not_a_500(world, authorization):
    response = APIClient().post(VERIFY_URL, {}, format="json", HTTP_AUTHORIZATION=authorization)
    assert_unauthenticated(response, "not_authenticated")


def test_a_revoked_key_is_a_401(world):
    api_key, secret = api_key_create(name="gone-platform")
    api_key.revoked = True
    api_key.save()
    response = APIClient().post(VERIFY_URL, {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert_unauthenticated(response, "authentication_failed")


def test_an_expired_key_is_a_401(world):
    api_key, secret = api_key_create(name="old-platform")
    ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(minutes=1))
    response = APIClient().post(VERIFY_URL, {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert "expired" in error_of(response, 401, "authentication_failed")


def test_the_key_of_another_key_with_the_same_prefix_is_a_401(world, platform_key):
    prefix, _, secret = platform_key.partition(".")
    tampered = f"{prefix}.{secret[::-1]}"
    response = APIClient().post(VERIFY_URL, {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {tampered}")
    assert_unauthenticated(response, "authentication_failed")


@pytest.mark.parametrize("keyword", ["Api-Key", "api-key", "API-KEY", "aPi-KeY"])
def test_the_api_key_keyword_is_case_insensitive(world, api, keyword):
    response = APIClient().post(
        VERIFY_URL, one_request(world), format="json", HTTP_AUTHORIZATION=f"{keyword} {api.key}"
    )
    assert response.status_code == 200, response.content


def test_a_regulator_key_may_verify(world, api, regulator_key):
    response = api.verify(sign(world.cl), "CN", "CL", key=regulator_key)
    assert response.status_code == 200
    assert Verification.objects.get().client == "market-regulator"


@pytest.mark.parametrize("username", ["alice", "rita", "root"])
def test_a_staff_session_with_a_role_may_verify_and_is_recorded_by_username(world, username):
    user = getattr(world, username)
    response = session(user).post(VERIFY_URL, one_request(world), format="json")
    assert response.status_code == 200, response.content
    assert Verification.objects.get().client == f"user:{username}"


def test_a_staff_session_without_a_role_is_a_403(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    response = session(stan).post(VERIFY_URL, one_request(world), format="json")
    error_of(response, 403, "forbidden")
    assert not Verification.objects.exists()


def test_a_non_staff_session_is_a_403(world):
    user = get_user_model().objects.create_user("shopper", password=PASSWORD)
    response = session(user).post(BATCH_URL, {"items": [one_request(world)]}, format="json")
    error_of(response, 403, "forbidden")
    assert not Verification.objects.exists()


def test_a_deactivated_country_administrator_session_is_not_accepted(world):
    client = session(world.alice)
    world.alice.is_active = False
    world.alice.save()
    response = client.post(VERIFY_URL, one_request(world), format="json")
    error_of(response, 401, "not_authenticated")
    assert not Verification.objects.exists()


# 413: refused before parsing -------------------------------------------------


@pytest.fixture
def spies(monkeypatch):
    """Records every call of the JSON parser, the request validation (the
    well-formed fast path or the serializer) and the verification service."""
    calls = []

    def spy(name, original):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(JSONBodyParser, "parse", spy("parse", JSONBodyParser.parse))
    monkeypatch.setattr(
        VerificationRequestSerializer, "run_validation", spy("validation", VerificationRequestSerializer.run_validation)
    )
    monkeypatch.setattr(views, "well_formed_request", spy("validation", views.well_formed_request))
    monkeypatch.setattr(views, "verify_credentials", spy("verify", views.verify_credentials))
    return calls


def padded_body(body: dict, size: int) -> str:
    text = json.dumps(body)
    return text[:-1] + " " * (size - len(text.encode())) + "}"


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_body_over_one_mib_is_a_413_before_anything_parses_it(world, api, spies, url):
    body = padded_body({"token": sign(world.cl), "destination": "CN"}, MIB + 1)
    assert len(body.encode()) == MIB + 1
    response = api.post(url, body)
    assert "over 1048576 bytes" in error_of(response, 413, "payload_too_large")
    assert spies == []
    assert not Verification.objects.exists()


def test_a_body_over_one_mib_is_a_413_even_without_a_key(world, spies):
    response = APIClient().generic("POST", VERIFY_URL, "x" * (MIB + 1), content_type="application/json")
    error_of(response, 413, "payload_too_large")
    assert spies == []


def test_a_body_of_exactly_one_mib_is_parsed_and_answered(world, api, spies):
    body = padded_body({"token": sign(world.cl), "destination": "CN", "origin": "CL"}, MIB)
    assert len(body.encode()) == MIB
    response = api.post(VERIFY_URL, body)
    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"
    assert spies == ["parse", "validation", "verify"]


@pytest.mark.parametrize("length", ["-1", "ten", "1e3"])
def test_a_content_length_that_is_not_a_byte_count_is_a_400(world, api, length):
    response = api.client.generic("POST", VERIFY_URL, "{}", content_type="application/json", CONTENT_LENGTH=length)
    error_of(response, 400, "malformed_request")


# 429: throttled per key ------------------------------------------------------


def test_throttled_key_gets_429_with_retry_after_and_other_keys_still_pass(world, api, regulator_key, settings):
    settings.API_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert api.verify(sign(world.cl), "CN", "CL").status_code == 200
    response = api.verify(sign(world.cl), "CN", "CL")
    assert "throttled" in error_of(response, 429, "throttled").lower()
    assert 0 < int(response["Retry-After"]) <= 60
    assert Verification.objects.count() == 3  # the throttled request decided nothing
    # The budget is shared by both endpoints, and it is the key's own.
    error_of(api.post(BATCH_URL, {"items": [one_request(world)]}), 429, "throttled")
    assert api.verify(sign(world.cl), "CN", "CL", key=regulator_key).status_code == 200


def test_throttling_reads_the_rate_at_request_time(world, api, settings):
    settings.API_THROTTLE_RATE = "1/min"
    assert api.verify(sign(world.cl), "CN").status_code == 200
    assert api.verify(sign(world.cl), "CN").status_code == 429
    settings.API_THROTTLE_RATE = "100/min"
    assert api.verify(sign(world.cl), "CN").status_code == 200


def test_a_staff_session_has_its_own_budget(world, api, settings):
    settings.API_THROTTLE_RATE = "1/min"
    assert api.verify(sign(world.cl), "CN").status_code == 200
    assert api.verify(sign(world.cl), "CN").status_code == 429
    client = session(world.alice)
    assert client.post(VERIFY_URL, one_request(world), format="json").status_code == 200
    assert client.post(VERIFY_URL, one_request(world), format="json").status_code == 429


# No 500: the database down, a bug, an unknown path -----------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_database_failure_is_a_503_logged_on_the_server_and_not_echoed(world, api, monkeypatch, caplog, url):
    def down(*args, **kwargs):
        raise OperationalError('could not connect to server "db-secret-host.internal"')

    monkeypatch.setattr(views, "verify_credentials", down)
    body = one_request(world) if url == VERIFY_URL else {"items": [one_request(world)]}
    with caplog.at_level(logging.ERROR, logger="recognition.api.errors"):
        response = api.post(url, body)
    detail = error_of(response, 503, "service_unavailable")
    assert "db-secret-host" not in response.content.decode()
    assert "database" in detail
    logged = [record for record in caplog.records if record.name == "recognition.api.errors"]
    assert logged and logged[0].exc_info and "db-secret-host" in str(logged[0].exc_info[1])


def test_a_database_failure_while_checking_the_key_is_a_503(world, api, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ApiKey.objects, "get_from_key", down)
    error_of(api.verify(sign(world.cl), "CN"), 503, "service_unavailable")


def test_an_unexpected_error_is_a_json_500_without_traceback(world, api, monkeypatch):
    def bug(*args, **kwargs):
        raise RuntimeError("internal state: secret-value-42")

    monkeypatch.setattr(views, "verify_credentials", bug)
    client = APIClient(raise_request_exception=False)
    response = client.post(VERIFY_URL, one_request(world), format="json", HTTP_AUTHORIZATION=f"Api-Key {api.key}")
    error_of(response, 500, "internal_error")
    assert b"secret-value-42" not in response.content
    assert b"Traceback" not in response.content


def test_an_unknown_api_path_is_a_json_404(world, api):
    response = api.post("/api/v1/verifications/nope/", {})
    error_of(response, 404, "not_found")


def test_an_unknown_page_outside_the_api_shows_no_debug_information(db):
    response = APIClient().get("/no-such-page/")
    assert response.status_code == 404
    assert b"urlpatterns" not in response.content and b"Traceback" not in response.content


def test_the_answer_is_json_whatever_accept_says(world, api):
    response = api.client.post(
        VERIFY_URL,
        {"token": sign(world.cl), "destination": "CN"},
        format="json",
        HTTP_ACCEPT="text/html",
        HTTP_AUTHORIZATION=f"Api-Key {api.key}",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["decision"] == "accepted"
