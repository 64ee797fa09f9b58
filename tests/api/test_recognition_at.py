"""GET /api/v1/recognition/?origin=&destination=&at= (DESIGN §7): which
authorities of the origin the destination recognized at an instant, under
which agreement versions, answered from history and public.

The timeline is built with a fake clock (services and simple-history both
read django.utils.timezone.now; tests/support/clock.py), as in tests/recognition/services/test_point_in_time.py,
and asked through HTTP inside every interval and at its edges."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from identity.services.keys import key_mark_compromised
from recognition.services import agreements as svc
from tests.support.clock import SECOND, T0, kz_timeline_expectations, walk_kz_timeline

URL = "/api/v1/recognition/"
ANSWER_FIELDS = {"origin", "destination", "at", "authorities"}
AUTHORITY_FIELDS = {
    "issuer",
    "name",
    "country",
    "status",
    "recognized",
    "basis",
    "credential_types",
    "agreements",
    "keys",
}
KEY_FIELDS = {"kid", "alg", "status", "not_before", "not_after", "retired_at", "compromised_at", "usable"}
AGREEMENT_FIELDS = {
    "id",
    "version",
    "status",
    "valid_from",
    "valid_until",
    "min_assurance",
    "credential_types",
    "legal_basis",
    "in_force",
}


@pytest.fixture
def anon(db) -> APIClient:
    return APIClient()


def z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ask(anon: APIClient, **params: str) -> dict:
    response = anon.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def kz_in_cn(anon: APIClient, at: datetime) -> dict:
    answer = ask(anon, origin="KZ", destination="CN", at=z(at))
    assert (answer["origin"], answer["destination"], answer["at"]) == ("KZ", "CN", z(at))
    (authority,) = answer["authorities"]
    return authority


def test_timeline_answered_in_every_interval_and_at_its_edges(world, clock, anon, settings):
    kz = world.kz.authority
    timeline = walk_kz_timeline(world, clock)
    agreement = timeline.agreement
    max_lifetime = timedelta(days=settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"])
    versions = {}
    for expected in kz_timeline_expectations(timeline, max_lifetime):
        at, recognized = expected.at, expected.recognized
        answer = kz_in_cn(anon, at)
        assert set(answer) == AUTHORITY_FIELDS
        assert (answer["issuer"], answer["country"]) == (kz.issuer, "KZ")
        assert (answer["recognized"], answer["status"]) == (recognized, expected.authority), at
        assert answer["basis"] == ("agreement" if recognized else None), at
        assert answer["credential_types"] == (["merchant-identity"] if recognized else []), at
        assert [(k["kid"], k["status"], k["usable"]) for k in answer["keys"]] == list(expected.keys), at
        assert all(set(key) == KEY_FIELDS for key in answer["keys"])
        if expected.agreement is None:
            assert answer["agreements"] == [], at
            continue
        (version,) = answer["agreements"]
        assert set(version) == AGREEMENT_FIELDS
        assert (version["id"], version["status"]) == (agreement.id, expected.agreement), at
        assert version["in_force"] is (expected.agreement == "active"), at
        assert (version["valid_from"], version["valid_until"]) == (z(T0), None)
        assert (version["min_assurance"], version["credential_types"]) == ("low", ["merchant-identity"])
        assert version["legal_basis"] == "CN-KZ memorandum"
        versions[at] = version["version"]
    # Each change of the agreement is its own version; the instant just
    # before a change still answers with the version before it, and a key's
    # change makes no agreement version.
    assert versions[timeline.activated] != versions[timeline.reactivated] != versions[timeline.suspended]
    assert versions[timeline.suspended - SECOND] == versions[timeline.activated]
    assert versions[timeline.key_a_retired] == versions[timeline.reactivated]


def test_keys_carry_their_dates_as_they_were_at_the_instant(world, clock, anon):
    timeline = walk_kz_timeline(world, clock)
    keys = {k["kid"]: k for k in kz_in_cn(anon, timeline.key_b_compromised)["keys"]}
    first, a, b = keys[timeline.first_key.kid], keys[timeline.key_a.kid], keys[timeline.key_b.kid]
    assert (first["compromised_at"], first["retired_at"]) == (z(timeline.first_key_compromised), None)
    assert (a["not_before"], a["not_after"]) == (z(timeline.key_a_registered), None)
    assert (a["retired_at"], a["compromised_at"]) == (z(timeline.key_a_retired), None)
    assert (b["not_before"], b["compromised_at"]) == (z(timeline.key_b_registered), z(timeline.key_b_compromised))
    # Before its retirement, A's answer says nothing of it.
    (_, a_before, _) = kz_in_cn(anon, timeline.key_a_retired - SECOND)["keys"]
    assert (a_before["status"], a_before["retired_at"]) == ("active", None)


def test_window_edges_are_from_inclusive_until_exclusive(world, clock, anon):
    start, end = T0 + timedelta(days=10), T0 + timedelta(days=20)
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=start,
        valid_until=end,
        activate=True,
    )
    assert [kz_in_cn(anon, at)["recognized"] for at in (start - SECOND, start, end - SECOND, end)] == [
        False,
        True,
        True,
        False,
    ]
    (version,) = kz_in_cn(anon, start)["agreements"]
    assert (version["valid_from"], version["valid_until"]) == (z(start), z(end))


def test_terms_changed_later_do_not_rewrite_the_past(world, clock, anon):
    clock.now = T0 + timedelta(days=1)
    agreement = svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=T0,
        activate=True,
    )
    clock.now = changed = T0 + timedelta(days=2)
    svc.agreement_update_terms(
        agreement=agreement, credential_types=[world.merchant_identity, world.export_licence], min_assurance="high"
    )
    (before,) = kz_in_cn(anon, changed - SECOND)["agreements"]
    (after,) = kz_in_cn(anon, changed)["agreements"]
    assert (before["credential_types"], before["min_assurance"]) == (["merchant-identity"], "substantial")
    assert (after["credential_types"], after["min_assurance"]) == (["export-licence", "merchant-identity"], "high")
    assert kz_in_cn(anon, changed)["credential_types"] == ["export-licence", "merchant-identity"]


def test_keys_are_shown_as_they_were_at_the_instant(world, clock, anon):
    clock.now = compromised = T0 + timedelta(days=30)
    key_mark_compromised(key=world.kz.key)
    (before,) = kz_in_cn(anon, compromised - SECOND)["keys"]
    (after,) = kz_in_cn(anon, compromised)["keys"]
    key = world.kz.key
    assert before == {
        "kid": key.kid,
        "alg": "EdDSA",
        "status": "active",
        "not_before": key.not_before.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "not_after": None,
        "retired_at": None,
        "compromised_at": None,
        "usable": True,
    }
    assert after == {**before, "status": "compromised", "compromised_at": z(compromised), "usable": False}


def test_domestic_authorities_are_recognized_without_agreement(world, anon):
    answer = ask(anon, origin="CN", destination="CN")
    (cn,) = answer["authorities"]
    assert (cn["issuer"], cn["recognized"], cn["basis"]) == (world.cn.authority.issuer, True, "domestic")
    assert (cn["credential_types"], cn["agreements"]) == ([], [])


def test_the_demo_corridor_now_and_by_default(world, anon):
    answer = ask(anon, origin="CL", destination="CN")
    assert abs(datetime.fromisoformat(answer["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    (cl,) = answer["authorities"]
    assert (cl["recognized"], cl["basis"], cl["credential_types"]) == (True, "agreement", ["merchant-identity"])
    assert [a["id"] for a in cl["agreements"]] == [world.cn_recognizes_cl.id]
    # Kazakhstan: known authority, no agreement with China.
    (kz,) = ask(anon, origin="KZ", destination="CN")["authorities"]
    assert (kz["recognized"], kz["basis"], kz["agreements"]) == (False, None, [])
    # Chile recognizes nobody from China.
    (cn,) = ask(anon, origin="CN", destination="CL")["authorities"]
    assert cn["recognized"] is False


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-01", "2026-03-01T00:00:00Z"),
        ("2026-03-01T12:30:00Z", "2026-03-01T12:30:00Z"),
        ("2026-03-01t12:30:00z", "2026-03-01T12:30:00Z"),
        ("2026-03-01T12:30:00+00:00", "2026-03-01T12:30:00Z"),
        ("2026-03-01T12:30:00.25Z", "2026-03-01T12:30:00.250000Z"),
        ("0001-01-01", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_at_accepts_rfc_3339_utc_times_and_dates(world, anon, at, expected):
    assert ask(anon, origin="CL", destination="CN", at=at)["at"] == expected


def test_before_anything_existed_there_is_nothing(world, anon):
    assert ask(anon, origin="CL", destination="CN", at="2000-01-01")["authorities"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"destination": "CN"},
        {"origin": "CL"},
        {},
        {"origin": "XX", "destination": "CN"},
        {"origin": "CL", "destination": "cn"},
        {"origin": "CL", "destination": "CHN"},
        {"origin": "CL", "destination": ""},
        {"origin": "CL", "destination": "CN", "at": "yesterday"},
        {"origin": "CL", "destination": "CN", "at": ""},
        {"origin": "CL", "destination": "CN", "at": "2026-13-01"},
        {"origin": "CL", "destination": "CN", "at": "2026-02-30T00:00:00Z"},
        {"origin": "CL", "destination": "CN", "at": "2026-03-01T00:00:00"},
        {"origin": "CL", "destination": "CN", "at": "2026-03-01T00:00:00+02:00"},
        {"origin": "CL", "destination": "CN", "at": "2026-03-01T00:00:00 00:00"},
        {"origin": "CL", "destination": "CN", "at": "1772323200"},
        {"origin": "CL", "destination": "CN", "at": "2026-03-01T24:00:00Z"},
        {"origin": "CL", "destination": "CN", "at": "\uff12\uff10\uff12\uff16-03-01"},
        {"origin": "CL", "destination": "CN", "at": "2026-03-01T00:00:00.1234567890Z"},
        {"origin": "CL", "destination": "CN", "when": "2026-03-01"},
    ],
)
def test_a_request_not_of_the_documented_shape_is_a_400_error(world, anon, query):
    response = anon.get(URL, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == "invalid_request"


def test_the_error_names_the_problem(world, anon):
    detail = anon.get(URL, {"origin": "CL", "destination": "CN", "at": "soon"}).json()["detail"]
    assert detail.startswith("at: 'soon' is not an RFC 3339 UTC time or a date")
    assert "origin" in anon.get(URL, {"destination": "CN"}).json()["detail"]
    detail = anon.get(f"{URL}?origin=CL&destination=CN&at=2026-03-01&at=2026-04-01").json()["detail"]
    assert "given more than once: at" in detail


def test_the_answer_is_public_whatever_the_authorization_header(world, anon):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Api-Key wrong.key"}):
        response = anon.get(URL, {"origin": "CL", "destination": "CN"}, **headers)
        assert response.status_code == 200, headers
    assert anon.post(URL, {}, format="json").status_code == 405


def test_recognition_is_in_the_schema_and_it_validates(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/recognition/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"origin", "destination", "at"}
    assert parameters["origin"]["required"] and parameters["destination"]["required"]
    assert not parameters["at"].get("required", False)
    assert {"200", "400"} <= set(operation["responses"])
    assert operation["security"] == [{}]
    answer = schema["components"]["schemas"]["RecognitionAt"]
    assert set(answer["properties"]) == ANSWER_FIELDS
    authority = schema["components"]["schemas"]["RecognizedAuthority"]
    assert set(authority["properties"]) == AUTHORITY_FIELDS
    assert set(schema["components"]["schemas"]["RecognitionAgreementVersion"]["properties"]) == AGREEMENT_FIELDS
    assert set(schema["components"]["schemas"]["RecognitionKey"]["properties"]) == KEY_FIELDS
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert "/api/v1/recognition/" in json.loads(out.getvalue())["paths"]
