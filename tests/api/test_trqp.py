"""TRQP under /trqp/ (DESIGN §9): authorization and
recognition answered from history for `context.time`, the Ayra lookups, and
problem+json for every error. Public: no key needed, none refused."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from identity.services.authorities import authority_create, authority_revoke, authority_suspend
from recognition.services import agreements as svc
from tests.support.clock import T0

AUTHORIZATION = "/trqp/authorization"
RECOGNITION = "/trqp/recognition"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}
ANSWER_FIELDS = {"entity_id", "authority_id", "action", "resource", "time_requested", "time_evaluated", "message"}


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def post(url: str, body, *, content_type: str = "application/json", **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return APIClient().generic("POST", url, data, content_type=content_type, **headers)


def query(entity_id: str, authority_id: str, action: str, resource: str = "merchant-identity", time=None) -> dict:
    body = {"entity_id": entity_id, "authority_id": authority_id, "action": action, "resource": resource}
    if time is not None:
        body["context"] = {"time": time}
    return body


def authorize(entity_id: str, authority_id: str, resource: str = "merchant-identity", time=None) -> dict:
    response = post(AUTHORIZATION, query(entity_id, authority_id, "issue", resource, time))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ANSWER_FIELDS | {"authorized"}
    return body


def recognize(entity_id: str, authority_id: str, resource: str = "merchant-identity", time=None) -> dict:
    response = post(RECOGNITION, query(entity_id, authority_id, "recognize", resource, time))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ANSWER_FIELDS | {"recognized"}
    return body


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert set(body) == PROBLEM_FIELDS
    assert (body["type"], body["status"], body["code"]) == ("about:blank", status, code)
    assert body["title"] and body["detail"]
    return body


# Authorization ------------------------------------------------------------------


def test_an_active_authority_is_authorized_to_issue_in_its_country(world):
    issuer = world.cl.authority.issuer
    body = authorize(issuer, "CL")
    assert body["authorized"] is True
    assert (body["entity_id"], body["authority_id"], body["action"], body["resource"]) == (
        issuer,
        "CL",
        "issue",
        "merchant-identity",
    )
    assert body["time_requested"].endswith("Z") and body["time_evaluated"].endswith("Z")
    assert authorize(issuer, "CL", "export-licence")["authorized"] is True


def test_an_authority_is_not_authorized_in_another_country(world):
    body = authorize(world.cl.authority.issuer, "CN")
    assert body["authorized"] is False and "authority of CL, not of CN" in body["message"]


def test_an_unknown_credential_type_is_not_authorized(world):
    body = authorize(world.cl.authority.issuer, "CL", "driving-licence")
    assert body["authorized"] is False and "'driving-licence' is not a credential type" in body["message"]


def test_authorization_follows_the_authority_status_at_the_time_asked(world, clock):
    clock.now = suspended = T0 + timedelta(days=1)
    authority_suspend(authority=world.cl.authority)
    clock.now = T0 + timedelta(days=2)
    issuer = world.cl.authority.issuer
    now = authorize(issuer, "CL")
    assert now["authorized"] is False and "suspended" in now["message"]
    assert now["time_requested"] == now["time_evaluated"] == z(clock.now)
    before = authorize(issuer, "CL", time=z(suspended - timedelta(seconds=1)))
    assert before["authorized"] is True
    assert before["time_requested"] == z(suspended - timedelta(seconds=1))
    assert before["time_evaluated"] == z(clock.now)
    assert authorize(issuer, "CL", time=z(suspended))["authorized"] is False


def test_a_revoked_authority_is_not_authorized(world):
    authority_revoke(authority=world.kz.authority)
    body = authorize(world.kz.authority.issuer, "KZ")
    assert body["authorized"] is False and "revoked" in body["message"]


def test_an_authority_asked_about_before_it_was_registered_is_not_authorized(world):
    body = authorize(world.cl.authority.issuer, "CL", time="2001-01-01T00:00:00Z")
    assert body["authorized"] is False and "was not a registered authority at 2001-01-01T00:00:00Z" in body["message"]


# Recognition -----------------------------------------------------------------------


def test_cn_recognizes_the_chilean_registry_for_merchant_identity(world):
    body = recognize(world.cl.authority.issuer, "CN")
    assert body["recognized"] is True and body["action"] == "recognize"
    assert f"agreement #{world.cn_recognizes_cl.pk}" in body["message"]


def test_cn_does_not_recognize_kazakhstan_without_an_agreement(world):
    body = recognize(world.kz.authority.issuer, "CN")
    assert body["recognized"] is False and "no agreement" in body["message"]


def test_recognition_is_for_the_credential_types_of_the_agreement_only(world):
    body = recognize(world.cl.authority.issuer, "CN", "export-licence")
    assert body["recognized"] is False and "merchant-identity, not export-licence" in body["message"]


def test_a_country_recognizes_its_own_active_authorities(world):
    body = recognize(world.cn.authority.issuer, "CN", "export-licence")
    assert body["recognized"] is True and "domestic" in body["message"]


def test_an_unknown_credential_type_is_not_recognized(world):
    assert recognize(world.cn.authority.issuer, "CN", "driving-licence")["recognized"] is False


def test_a_suspended_agreement_is_not_in_force(world):
    svc.agreement_suspend(agreement=world.cn_recognizes_cl)
    body = recognize(world.cl.authority.issuer, "CN")
    assert body["recognized"] is False and f"#{world.cn_recognizes_cl.pk} suspended" in body["message"]


def test_drafts_are_not_mentioned(world):
    draft = svc.agreement_create(
        destination="CN", authority=world.kz.authority, credential_types=[world.merchant_identity]
    )
    body = recognize(world.kz.authority.issuer, "CN")
    assert body["recognized"] is False and f"#{draft.pk}" not in body["message"]


def test_recognition_travels_in_time_with_context_time(world, clock):
    clock.now = created = T0 + timedelta(days=1)
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
        valid_from=T0 - timedelta(days=30),
        activate=True,
    )
    clock.now = T0 + timedelta(days=2)
    issuer = world.kz.authority.issuer
    before = recognize(issuer, "CN", time=z(created - timedelta(seconds=1)))
    assert before["recognized"] is False and "no agreement" in before["message"]
    assert recognize(issuer, "CN", time=z(created))["recognized"] is True
    assert recognize(issuer, "CN")["recognized"] is True


def test_time_may_be_given_with_a_zero_offset_and_fractions(world):
    body = recognize(world.cl.authority.issuer, "CN", time="2090-01-01T00:00:00.5+00:00")
    assert body["time_requested"] == "2090-01-01T00:00:00.500000Z"


@pytest.mark.parametrize(
    "context",
    [{"context": {"time": None}}, {"context": None}, {"context": {}}, {}],
    ids=["time null", "context null", "context empty", "no context"],
)
@pytest.mark.parametrize("url", [AUTHORIZATION, RECOGNITION])
def test_a_null_or_absent_time_is_now(world, url, context):
    """DESIGN §9: `context.time` defaults to now; a JSON null, for `time` or
    for the whole `context`, is the same as leaving it out."""
    action = "issue" if url == AUTHORIZATION else "recognize"
    body = {**query(world.cl.authority.issuer, "CL" if url == AUTHORIZATION else "CN", action), **context}
    before = datetime.now(UTC)
    response = post(url, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    requested = datetime.fromisoformat(answer["time_requested"])
    assert before <= requested <= datetime.now(UTC)
    assert answer["time_requested"] == answer["time_evaluated"]
    assert answer["authorized" if url == AUTHORIZATION else "recognized"] is True


# Pure verdicts -------------------------------------------------------------------------


# Problems ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [AUTHORIZATION, RECOGNITION])
@pytest.mark.parametrize("entity_id", ["https://nobody.test/issuer", "did:example:entity123", "did:web:x.test%3A8443"])
def test_an_unknown_entity_is_a_404_problem(world, url, entity_id):
    action = "issue" if url == AUTHORIZATION else "recognize"
    response = post(url, query(entity_id, "CN", action))
    body = assert_problem(response, 404, "unknown_entity")
    assert entity_id in body["detail"]


CL_ISSUER = "https://registro-cl.test/issuer"  # tests/support/actors.py
GOOD = query(CL_ISSUER, "CN", "recognize")
MALFORMED = [
    ("not JSON", "{not json", "malformed_request"),
    ("an array", "[]", "invalid_request"),
    ("empty object", {}, "invalid_request"),
    ("missing resource", {k: v for k, v in GOOD.items() if k != "resource"}, "invalid_request"),
    ("unknown field", {**GOOD, "assertion_id": "x"}, "invalid_request"),
    ("unknown context member", {**GOOD, "context": {"time": "2026-03-01T00:00:00Z", "place": "x"}}, "invalid_request"),
    ("context not an object", {**GOOD, "context": "now"}, "invalid_request"),
    ("time not a time", {**GOOD, "context": {"time": "yesterday"}}, "invalid_request"),
    ("time without offset", {**GOOD, "context": {"time": "2026-03-01T00:00:00"}}, "invalid_request"),
    ("time not UTC", {**GOOD, "context": {"time": "2026-03-01T08:00:00+08:00"}}, "invalid_request"),
    ("date only", {**GOOD, "context": {"time": "2026-03-01"}}, "invalid_request"),
    ("time a number", {**GOOD, "context": {"time": 1772323200}}, "invalid_request"),
    ("unknown country", {**GOOD, "authority_id": "XX"}, "invalid_request"),
    ("lower-case country", {**GOOD, "authority_id": "cn"}, "invalid_request"),
    ("wrong action", {**GOOD, "action": "issue"}, "invalid_request"),
    ("padded action", {**GOOD, "action": " recognize"}, "invalid_request"),
    ("entity_id a number", {**GOOD, "entity_id": 42}, "invalid_request"),
    ("empty resource", {**GOOD, "resource": ""}, "invalid_request"),
    ("NUL in entity_id", {**GOOD, "entity_id": "https://x.test/\u0000"}, "invalid_request"),
    ("entity_id neither a DID nor a URL", {**GOOD, "entity_id": "nobody"}, "invalid_request"),
    ("entity_id an http URL", {**GOOD, "entity_id": "http://registro-cl.test/issuer"}, "invalid_request"),
    ("entity_id a DID without an id", {**GOOD, "entity_id": "did:example:"}, "invalid_request"),
    ("authority_id a DID with an upper-case method", {**GOOD, "authority_id": "did:Web:x.test:cn"}, "invalid_request"),
    ("authority_id a DID URL", {**GOOD, "authority_id": "did:example:ecosystem#cn"}, "invalid_request"),
    ("authority_id a DID with a space", {**GOOD, "authority_id": "did:example:eco system"}, "invalid_request"),
    ("authority_id an https URL without a host", {**GOOD, "authority_id": "https:///cn"}, "invalid_request"),
    ("authority_id a number", {**GOOD, "authority_id": 86}, "invalid_request"),
    ("authority_id too long", {**GOOD, "authority_id": "did:example:" + "e" * 500}, "invalid_request"),
]


@pytest.mark.parametrize(("body", "code"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_every_malformed_request_is_a_400_problem(world, body, code):
    assert world.cl.authority.issuer == CL_ISSUER
    assert_problem(post(RECOGNITION, body), 400, code)


@pytest.mark.parametrize("url", [AUTHORIZATION, RECOGNITION])
def test_a_query_that_repeats_a_member_name_is_a_400_problem(world, url):
    # Last one wins in Python's json: this asked about Chile's registry.
    action = "issue" if url == AUTHORIZATION else "recognize"
    body = json.dumps(query(CL_ISSUER, "CN", action))
    for repeated, name in [
        ('{"entity_id": "https://nobody.test/issuer", ' + body[1:], "entity_id"),
        (body[:-1] + ', "context": {"time": "2020-01-01T00:00:00Z", "time": "2026-03-01T00:00:00Z"}}', "time"),
    ]:
        problem = assert_problem(post(url, repeated), 400, "malformed_request")
        assert problem["detail"] == f"JSON parse error - duplicate member name {name!r}"


def test_authorization_wants_the_issue_action(world):
    body = query(world.cl.authority.issuer, "CL", "recognize")
    problem = assert_problem(post(AUTHORIZATION, body), 400, "invalid_request")
    assert "action: must be 'issue'" in problem["detail"]


def test_a_body_that_is_not_json_media_type_is_a_415_problem(world):
    response = post(RECOGNITION, "entity_id=x", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_a_body_over_one_mebibyte_is_refused_before_it_is_read(world):
    body = json.dumps({**GOOD, "resource": "x" * (1024 * 1024)})
    assert post(RECOGNITION, body).status_code == 413


def test_wrong_method_is_a_405_problem(world):
    response = APIClient().get(AUTHORIZATION)
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_an_unknown_trqp_path_is_a_404_problem(world):
    assert_problem(APIClient().get("/trqp/nothing/here"), 404, "not_found")


# Public ----------------------------------------------------------------------------------


def test_no_key_is_needed_and_none_is_refused(world):
    body = query(world.cl.authority.issuer, "CN", "recognize")
    assert post(RECOGNITION, body, HTTP_AUTHORIZATION="Api-Key wrong.key").status_code == 200
    assert post(RECOGNITION, body, HTTP_AUTHORIZATION="Bearer some-verifier-token").status_code == 200


def test_a_logged_in_browser_needs_no_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rita)
    body = json.dumps(query(world.cl.authority.issuer, "CN", "recognize"))
    assert client.post(RECOGNITION, body, content_type="application/json").status_code == 200


def test_answers_are_json_whatever_the_accept_header(world):
    body = json.dumps(query(world.cl.authority.issuer, "CN", "recognize"))
    response = APIClient().generic("POST", RECOGNITION, body, content_type="application/json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


# Metadata, lookups, entities ----------------------------------------------------------------


def test_metadata(world, settings):
    response = APIClient().get("/trqp/metadata")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"id", "name", "description", "controllers", "authority_ids"}
    assert body["id"] == settings.REGISTRY["ISSUER"] and body["controllers"] == [body["id"]]
    assert body["authority_ids"] == {
        "CL": "did:web:registry.example:cl",
        "CN": "did:web:registry.example:cn",
        "KZ": "did:web:registry.example:kz",
    }


def test_assurance_levels_lookup(world):
    response = APIClient().get("/trqp/lookups/assuranceLevels", {"authority_id": "CN"})
    assert response.status_code == 200
    levels = response.json()
    assert [level["assurance_level"] for level in levels] == ["low", "substantial", "high"]
    assert all(set(level) == {"assurance_level", "description"} and level["description"] for level in levels)
    assert APIClient().get("/trqp/lookups/assuranceLevels").json() == levels


def test_authorizations_lookup_lists_both_actions_for_every_credential_type(world):
    response = APIClient().get("/trqp/lookups/authorizations", {"authority_id": "CL"})
    assert response.status_code == 200
    pairs = {(item["action"], item["resource"]) for item in response.json()}
    assert pairs == {
        ("issue", "export-licence"),
        ("recognize", "export-licence"),
        ("issue", "merchant-identity"),
        ("recognize", "merchant-identity"),
    }


@pytest.mark.parametrize("url", ["/trqp/lookups/assuranceLevels", "/trqp/lookups/authorizations"])
def test_lookups_refuse_an_unknown_country(world, url):
    assert_problem(APIClient().get(url, {"authority_id": "XX"}), 400, "invalid_request")


def test_entities_are_the_authorities_of_a_country(world):
    response = APIClient().get("/trqp/entities", {"authority_id": "CN"})
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        {
            "entity_id": world.cn.authority.issuer,
            "name": world.cn.authority.name,
            "authority_id": "CN",
            "status": "active",
            "max_assurance": "high",
        }
    ]
    assert body["pagination"] == {"limit": 50, "offset": 0, "total": 1, "next": None, "previous": None}
    assert APIClient().get("/trqp/entities", {"authority_id": "FR"}).json()["items"] == []


def test_entities_are_paginated_by_offset(world):
    for n in (2, 3):
        authority_create(country="CL", name=f"Registro {n}", issuer=f"https://registro-{n}.test/issuer")
    client = APIClient()
    first = client.get("/trqp/entities", {"authority_id": "CL", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["pagination"]["total"] == 3
    assert first["pagination"]["previous"] is None
    second = client.get(first["pagination"]["next"]).json()
    assert second["pagination"]["offset"] == 2 and len(second["items"]) == 1
    assert second["pagination"]["next"] is None
    back = client.get(second["pagination"]["previous"]).json()
    assert back["items"] == first["items"]
    issuers = {item["entity_id"] for item in first["items"] + second["items"]}
    assert len(issuers) == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"authority_id": "cl"},
        {"authority_id": "CL", "limit": 0},
        {"authority_id": "CL", "limit": 201},
        {"authority_id": "CL", "limit": "many"},
        {"authority_id": "CL", "offset": -1},
    ],
)
def test_entities_refuse_bad_parameters(world, params):
    assert_problem(APIClient().get("/trqp/entities", params), 400, "invalid_request")


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/trqp/entities", "?authority_id=CL&authorityid=CN"),
        ("/trqp/entities", "?authority_id=CL&authority_id=CN"),
        ("/trqp/lookups/authorizations", "?ecosystem=CN"),
        ("/trqp/lookups/assuranceLevels", "?authority_id=CN&authority_id=CL"),
    ],
)
def test_unknown_and_repeated_parameters_are_refused(world, url, query):
    assert_problem(APIClient().get(url + query), 400, "invalid_request")


def test_metadata_takes_no_parameter_and_ignores_any(world):
    assert APIClient().get("/trqp/metadata", {"egf_did": "did:web:x"}).status_code == 200


def test_entities_allow_the_maximum_limit(world):
    assert APIClient().get("/trqp/entities", {"authority_id": "CL", "limit": 200}).status_code == 200


# Schema ------------------------------------------------------------------------------------------


def test_trqp_endpoints_are_in_the_schema_with_problem_responses(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    paths = json.loads(out.getvalue())["paths"]
    for url in (AUTHORIZATION, RECOGNITION):
        responses = paths[url]["post"]["responses"]
        assert "application/json" in responses["200"]["content"]
        for status in ("400", "404", "415"):
            assert set(responses[status]["content"]) == {"application/problem+json"}, status
    for url in ("/trqp/metadata", "/trqp/lookups/assuranceLevels", "/trqp/lookups/authorizations", "/trqp/entities"):
        assert "get" in paths[url], url
    assert not any(path.startswith("/trqp/{") for path in paths)


# The Ayra TRQP profile smoke test --------------------------------------------------------------
# ayraforum/ayra-trust-registry-resources, tests/api_conformance_test.py (commit 1fe4b21, "alignment
# with TRQP v2.0 Approved"): its requests with its default identifiers, and the statuses it accepts.
# A registry that does not know those identifiers answers 404 (DESIGN §9), never 400.

AYRA_ENTITY = "did:example:entity123"
AYRA_REGISTRY = "did:example:trust-registry"
AYRA_AUTHORITY = "did:example:ecosystem"
AYRA_CORE = {200, 400, 401, 404}  # CORE_EXPECTED_STATUSES
AYRA_OPTIONAL = {200, 401, 404, 501}  # OPTIONAL_EXPECTED_STATUSES
AYRA_HEADERS = {"HTTP_ACCEPT": "application/json"}


def ayra_post(url: str, entity_id: str, action: str, resource: str):
    body = {"entity_id": entity_id, "authority_id": AYRA_AUTHORITY, "action": action, "resource": resource}
    return post(url, {**body, "context": {}}, **AYRA_HEADERS)


def test_ayra_smoke_metadata(world):
    response = APIClient().get("/trqp/metadata", **AYRA_HEADERS)
    assert response.status_code in AYRA_OPTIONAL and response.status_code == 200
    assert {"id", "name", "description"} <= set(response.json())


def test_ayra_smoke_authorization_with_its_default_identifiers_is_404(world):
    response = ayra_post(AUTHORIZATION, AYRA_ENTITY, "issue", "credential")
    assert response.status_code in AYRA_CORE
    assert_problem(response, 404, "unknown_authority")


def test_ayra_smoke_recognition_with_its_default_identifiers_is_404(world):
    response = ayra_post(RECOGNITION, AYRA_REGISTRY, "recognize", "trust-registry")
    assert response.status_code in AYRA_CORE
    assert_problem(response, 404, "unknown_authority")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/trqp/lookups/assuranceLevels", {"authority_id": AYRA_AUTHORITY}),
        ("/trqp/lookups/authorizations", {"authority_id": AYRA_AUTHORITY}),
        ("/trqp/lookups/didMethods", {"authority_id": AYRA_AUTHORITY}),
        ("/trqp/entities", {"authority_id": AYRA_AUTHORITY, "limit": 10}),
    ],
)
def test_ayra_smoke_lookups_with_its_default_ecosystem_are_404(world, path, params):
    response = APIClient().get(path, params, **AYRA_HEADERS)
    assert response.status_code in AYRA_OPTIONAL
    code = "not_found" if path.endswith("didMethods") else "unknown_authority"
    body = assert_problem(response, 404, code)
    if code == "unknown_authority":
        assert AYRA_AUTHORITY in body["detail"] and "/trqp/metadata" in body["detail"]


def test_ayra_smoke_passes_against_a_known_ecosystem(world):
    """The same requests with this registry's identifiers: every answer a 200 of the profile's shape."""
    cn = "did:web:registry.example:cn"
    for url, entity_id, action, verdict in [
        (AUTHORIZATION, world.cn.authority.issuer, "issue", "authorized"),
        (RECOGNITION, world.cl.authority.issuer, "recognize", "recognized"),
    ]:
        body = {"entity_id": entity_id, "authority_id": cn, "action": action, "resource": "merchant-identity"}
        response = post(url, {**body, "context": {}}, **AYRA_HEADERS)
        assert response.status_code == 200, response.content
        answer = response.json()
        assert {"entity_id", "authority_id", "action", "resource", "time_evaluated", verdict} <= set(answer)
        assert answer["authority_id"] == cn and answer[verdict] is True
    client = APIClient()
    levels = client.get("/trqp/lookups/assuranceLevels", {"authority_id": cn}, **AYRA_HEADERS)
    assert all({"assurance_level", "description"} <= set(item) for item in levels.json()) and levels.json()
    pairs = client.get("/trqp/lookups/authorizations", {"authority_id": cn}, **AYRA_HEADERS)
    assert all({"action", "resource"} <= set(item) for item in pairs.json()) and pairs.json()
    entities = client.get("/trqp/entities", {"authority_id": cn, "limit": 10}, **AYRA_HEADERS).json()
    assert [item["entity_id"] for item in entities["items"]] == [world.cn.authority.issuer]
    assert "pagination" in entities
