"""Public reads (DESIGN §7, §10): authorities, their JWKS and agreements,
with no key; field for field; strict filters (400 naming the parameter);
DRF's page-number pagination; drafts shown only to regulators and to the
administrators of their destination; reciprocity; public key members only.
Also: every read endpoint is in the OpenAPI schema, which still validates."""

import json
from datetime import UTC, datetime
from io import StringIO

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from identity.jose.key_files import public_jwk_of
from identity.models import AuthorityKey
from identity.services.authorities import authority_suspend
from identity.services.keys import key_mark_compromised, key_register, key_retire
from recognition.services.agreements import (
    agreement_create,
    agreement_suspend,
    agreement_terminate,
)
from tests.support.api import error_of, keyed, session
from tests.support.tokens import sign

AUTHORITIES = "/api/v1/authorities/"
AGREEMENTS = "/api/v1/agreements/"
READ_PATHS = [
    "/api/v1/authorities/",
    "/api/v1/authorities/{id}/",
    "/api/v1/authorities/{id}/jwks.json",
    "/api/v1/agreements/",
    "/api/v1/agreements/{id}/",
    "/api/v1/agreements/{id}/history/",
    "/api/v1/audit/verifications/",
    "/api/v1/audit/integrity/",
]


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def anonymous() -> APIClient:
    return APIClient()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# Authorities -----------------------------------------------------------------------------------


def test_authorities_list_field_for_field_without_a_key(world):
    response = anonymous().get(AUTHORITIES)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [item["country"] for item in body["results"]] == ["CL", "CN", "KZ"]
    cl = world.cl.authority
    assert body["results"][0] == {
        "id": cl.id,
        "issuer": "https://registro-cl.test/issuer",
        "name": "Registro de Empresas de Prueba",
        "country": "CL",
        "status": "active",
        "max_assurance": "high",
        "jwks_uri": f"http://testserver/api/v1/authorities/{cl.id}/jwks.json",
        "created_at": iso(cl.created_at),
        "updated_at": iso(cl.updated_at),
    }
    assert anonymous().get(f"{AUTHORITIES}{cl.id}/").json() == body["results"][0]


def test_authorities_filter_by_country_and_status(world):
    authority_suspend(authority=world.kz.authority)
    client = anonymous()
    assert ids(client.get(AUTHORITIES, {"country": "CN"})) == [world.cn.authority.id]
    assert ids(client.get(AUTHORITIES, {"status": "suspended"})) == [world.kz.authority.id]
    assert ids(client.get(AUTHORITIES, {"status": "active", "country": "KZ"})) == []
    assert ids(client.get(AUTHORITIES, {"country": "FR"})) == []  # a real country without authorities


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("country=cn", "country: 'cn' is not an ISO 3166-1 alpha-2 country code"),
        ("country=XX", "country: 'XX' is not"),
        ("country=CHN", "country: 'CHN' is not"),
        ("country=", "country: This field may not be blank"),
        ("status=retired", "status:"),
        ("contry=CN", "unknown query parameters: contry (accepted: page, page_size, country, status)"),
        ("country=CN&country=CL", "country: given more than once"),
        ("page=0", "page:"),
        ("page=x", "page:"),
        ("page_size=201", "page_size:"),
        ("page_size=0", "page_size:"),
    ],
)
def test_authorities_bad_query_is_a_400_naming_the_parameter(world, query, named):
    assert named in error_of(anonymous().get(f"{AUTHORITIES}?{query}"), 400, "invalid_request")


def test_unknown_authority_is_a_404_in_the_error_shape(world):
    for path in ("999999/", "999999/jwks.json"):
        assert "no authority with id 999999" in error_of(anonymous().get(AUTHORITIES + path), 404, "not_found")
    error_of(anonymous().get(AUTHORITIES + "abc/"), 404, "not_found")
    error_of(anonymous().get(AUTHORITIES + "9" * 30 + "/"), 404, "not_found")  # past any integer column


def test_authorities_are_paginated_with_working_links(world):
    client = anonymous()
    first = client.get(AUTHORITIES, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/authorities/?page=2&page_size=2"
    second = client.get(first["next"]).json()
    assert [item["country"] for item in second["results"]] == ["KZ"] and second["next"] is None
    assert client.get(second["previous"]).json() == first
    error_of(client.get(AUTHORITIES, {"page": 3, "page_size": 2}), 404, "not_found")


def test_a_wrong_api_key_on_a_public_read_is_a_401(world):
    response = keyed("nope.wrong").get(AUTHORITIES)
    error_of(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Api-Key"


# JWKS ----------------------------------------------------------------------------------------

PUBLIC = {"OKP": {"kty", "crv", "x"}, "EC": {"kty", "crv", "x", "y"}, "RSA": {"kty", "n", "e"}}
REGISTRY_MEMBERS = {"kid", "alg", "use", "status", "not_before", "not_after", "retired_at", "compromised_at"}


def register(actor, private_key, alg: str | None = None) -> AuthorityKey:
    return key_register(authority=actor.authority, jwk=public_jwk_of(private_key), alg=alg)


def test_jwks_lists_every_key_with_status_and_validity_and_public_members_only(world):
    es256 = register(world.cl, ec.generate_private_key(ec.SECP256R1()))
    rs256 = register(world.cl, rsa.generate_private_key(public_exponent=65537, key_size=2048), alg="RS256")
    compromised = key_mark_compromised(key=register(world.cl, ed25519.Ed25519PrivateKey.generate()))
    retired = key_retire(key=es256)
    response = anonymous().get(f"{AUTHORITIES}{world.cl.authority.id}/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    keys = {entry["kid"]: entry for entry in response.json()["keys"]}
    registered = AuthorityKey.objects.filter(authority=world.cl.authority).order_by("not_before", "kid")
    assert [entry["kid"] for entry in response.json()["keys"]] == [key.kid for key in registered]
    assert [key.kid for key in registered][0] == world.cl.key.kid  # the oldest not_before first
    for entry in keys.values():
        assert set(entry) == PUBLIC[entry["kty"]] | REGISTRY_MEMBERS, entry
        assert entry["use"] == "sig"
    first = world.cl.key
    assert keys[first.kid] == {
        **{name: first.public_jwk[name] for name in ("kty", "crv", "x")},
        "kid": first.kid,
        "alg": "EdDSA",
        "use": "sig",
        "status": "active",
        "not_before": iso(first.not_before),
        "not_after": None,
        "retired_at": None,
        "compromised_at": None,
    }
    assert (keys[es256.kid]["alg"], keys[es256.kid]["kty"], keys[es256.kid]["status"]) == ("ES256", "EC", "retired")
    assert keys[es256.kid]["retired_at"] == iso(retired.retired_at)
    assert retired.retired_at.microsecond == 0 or "." in keys[es256.kid]["retired_at"]  # to the microsecond
    assert (keys[rs256.kid]["alg"], keys[rs256.kid]["kty"], keys[rs256.kid]["status"]) == ("RS256", "RSA", "active")
    assert keys[compromised.kid]["status"] == "compromised"
    assert keys[compromised.kid]["compromised_at"] == iso(compromised.compromised_at)


def test_jwks_never_shows_a_member_outside_the_public_ones_even_if_one_was_stored(world):
    # Key intake refuses private members; should one reach the row anyway,
    # the JWKS is built from the public members and shows nothing else.
    stored = {**world.cl.key.public_jwk, "d": "c2VjcmV0", "p": "x", "k": "x", "x5u": "https://evil.test"}
    AuthorityKey.objects.filter(pk=world.cl.key.pk).update(public_jwk=stored)
    body = anonymous().get(f"{AUTHORITIES}{world.cl.authority.id}/jwks.json").json()
    (key,) = body["keys"]
    assert set(key) == PUBLIC["OKP"] | REGISTRY_MEMBERS
    assert "c2VjcmV0" not in json.dumps(body)


def test_jwks_verifies_the_authoritys_credentials_with_a_jose_library(world):
    body = anonymous().get(f"{AUTHORITIES}{world.cl.authority.id}/jwks.json").json()
    jwk = jwt.PyJWKSet.from_dict(body)[world.cl.key.kid]
    token = sign(world.cl)
    claims = jwt.decode(token, jwk.key, algorithms=["EdDSA"], options={"verify_aud": False})
    assert claims["iss"] == world.cl.authority.issuer


# Agreements ----------------------------------------------------------------------------------


@pytest.fixture
def cl_recognizes_cn(world):
    return agreement_create(
        destination="CL",
        authority=world.cn.authority,
        credential_types=[world.merchant_identity, world.export_licence],
        min_assurance="substantial",
        legal_basis="CN-CL e-commerce cooperation memorandum (2016)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        reference_url="https://mofcom.example/cn-cl",
        activate=True,
    )


@pytest.fixture
def cn_draft_for_kz(world):
    """A CN draft recognizing Kazakhstan's authority: alice's to review."""
    return agreement_create(destination="CN", authority=world.kz.authority, credential_types=[world.merchant_identity])


def test_agreement_field_for_field(world, cl_recognizes_cn):
    response = anonymous().get(f"{AGREEMENTS}{cl_recognizes_cn.id}/")
    assert response.status_code == 200
    agreement = cl_recognizes_cn
    cn = world.cn.authority
    assert response.json() == {
        "id": agreement.id,
        "destination": "CL",
        "origin": "CN",
        "authority": {"id": cn.id, "issuer": cn.issuer, "name": cn.name, "country": "CN", "status": "active"},
        "status": "active",
        "credential_types": ["export-licence", "merchant-identity"],
        "min_assurance": "substantial",
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": None,
        "legal_basis": "CN-CL e-commerce cooperation memorandum (2016)",
        "reference_url": "https://mofcom.example/cn-cl",
        "in_force": True,
        "reciprocal": True,
        "created_at": iso(agreement.created_at),
        "updated_at": iso(agreement.updated_at),
    }
    listed = anonymous().get(AGREEMENTS).json()
    assert listed["count"] == 2
    assert listed["results"] == [response.json(), anonymous().get(f"{AGREEMENTS}{world.cn_recognizes_cl.id}/").json()]


def test_reciprocity_needs_an_active_or_suspended_agreement_the_other_way(world, cl_recognizes_cn):
    client = anonymous()
    one_way = world.cn_recognizes_cl.id

    def reciprocal() -> bool:
        return client.get(f"{AGREEMENTS}{one_way}/").json()["reciprocal"]

    assert reciprocal() is True
    agreement_suspend(agreement=cl_recognizes_cn)
    assert reciprocal() is True
    agreement_terminate(agreement=cl_recognizes_cn)
    assert reciprocal() is False
    agreement_create(destination="CL", authority=world.cn.authority, credential_types=[world.merchant_identity])
    assert reciprocal() is False  # a draft is only a proposal
    kz_for_cl = agreement_create(
        destination="KZ", authority=world.cl.authority, credential_types=[world.merchant_identity], legal_basis="x",
        activate=True,
    )  # fmt: skip
    assert reciprocal() is False  # the other way for CN←CL is CL←(a CN authority), not KZ←CL
    assert client.get(f"{AGREEMENTS}{kz_for_cl.id}/").json()["reciprocal"] is False


def test_drafts_are_hidden_from_the_public_and_platforms(world, cn_draft_for_kz, platform_key):
    draft = cn_draft_for_kz.id
    for client in (anonymous(), keyed(platform_key), session(world.bob)):
        assert draft not in ids(client.get(AGREEMENTS))
        assert ids(client.get(AGREEMENTS, {"status": "draft"})) == []
        error_of(client.get(f"{AGREEMENTS}{draft}/"), 404, "not_found")


def test_drafts_are_shown_to_regulators_and_to_the_destinations_administrators(world, cn_draft_for_kz, regulator_key):
    draft = cn_draft_for_kz.id
    for client in (session(world.alice), keyed(regulator_key), session(world.rita), session(world.root)):
        assert ids(client.get(AGREEMENTS)) == [world.cn_recognizes_cl.id, draft]
        assert ids(client.get(AGREEMENTS, {"status": "draft"})) == [draft]
        body = client.get(f"{AGREEMENTS}{draft}/").json()
        assert (body["status"], body["in_force"], body["legal_basis"]) == ("draft", False, "")


def test_a_country_administrator_sees_no_other_countrys_drafts(world, cn_draft_for_kz):
    cl_draft = agreement_create(destination="CL", authority=world.kz.authority, credential_types=[world.export_licence])
    assert ids(session(world.alice).get(AGREEMENTS)) == [world.cn_recognizes_cl.id, cn_draft_for_kz.id]
    assert ids(session(world.bob).get(AGREEMENTS)) == [cl_draft.id, world.cn_recognizes_cl.id]
    error_of(session(world.bob).get(f"{AGREEMENTS}{cn_draft_for_kz.id}/"), 404, "not_found")


def test_a_staff_user_without_a_role_reads_like_the_public(world, cn_draft_for_kz):
    staff = get_user_model().objects.create_user("sam", is_staff=True)
    assert ids(session(staff).get(AGREEMENTS)) == [world.cn_recognizes_cl.id]


def test_agreements_filter_by_destination_origin_status_and_credential_type(world, cl_recognizes_cn):
    client = anonymous()
    cn_cl, cl_cn = world.cn_recognizes_cl.id, cl_recognizes_cn.id
    assert ids(client.get(AGREEMENTS, {"destination": "CN"})) == [cn_cl]
    assert ids(client.get(AGREEMENTS, {"origin": "CN"})) == [cl_cn]
    assert ids(client.get(AGREEMENTS, {"destination": "CN", "origin": "CN"})) == []
    assert ids(client.get(AGREEMENTS, {"credential_type": "export-licence"})) == [cl_cn]
    assert ids(client.get(AGREEMENTS, {"credential_type": "merchant-identity"})) == [cl_cn, cn_cl]
    agreement_suspend(agreement=world.cn_recognizes_cl)
    assert ids(client.get(AGREEMENTS, {"status": "suspended"})) == [cn_cl]
    assert ids(client.get(AGREEMENTS, {"status": "active"})) == [cl_cn]
    body = client.get(f"{AGREEMENTS}{cn_cl}/").json()
    assert (body["status"], body["in_force"]) == ("suspended", False)


def test_a_credential_type_no_type_has_selects_an_empty_page(world):
    """A filter, like destination=KZ where no agreement names KZ: 200, no rows."""
    body = anonymous().get(AGREEMENTS, {"credential_type": "driving-licence"}).json()
    assert (body["count"], body["results"]) == (0, [])


def test_an_agreement_outside_its_window_is_not_in_force(world):
    future = agreement_create(
        destination="KZ", authority=world.cl.authority, credential_types=[world.merchant_identity],
        legal_basis="x", valid_from=datetime(2999, 1, 1, tzinfo=UTC), activate=True,
    )  # fmt: skip
    assert anonymous().get(f"{AGREEMENTS}{future.id}/").json()["in_force"] is False


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("destination=cn", "destination: 'cn' is not an ISO 3166-1 alpha-2"),
        ("origin=ZZ", "origin: 'ZZ' is not"),
        ("status=expired", "status:"),
        ("credential_type=driving%20licence", "credential_type: not a credential type code"),
        ("credential_type=%20merchant-identity", "credential_type: not a credential type code"),
        (f"credential_type={'a' * 101}", "credential_type:"),
        ("authority=1", "unknown query parameters: authority"),
        ("page_size=1000", "page_size:"),
    ],
)
def test_agreements_bad_query_is_a_400_naming_the_parameter(world, query, named):
    assert named in error_of(anonymous().get(f"{AGREEMENTS}?{query}"), 400, "invalid_request")


def test_agreements_pagination_keeps_the_filters_in_its_links(world, cl_recognizes_cn):
    agreement_create(destination="KZ", authority=world.cl.authority, credential_types=[world.merchant_identity],
                     legal_basis="x", activate=True)  # fmt: skip
    client = anonymous()
    first = client.get(AGREEMENTS, {"credential_type": "merchant-identity", "page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert {r["id"] for r in first["results"] + second["results"]} == set(ids(client.get(AGREEMENTS)))


def test_unknown_agreement_is_a_404_and_a_detail_takes_no_query_parameters(world):
    assert "no agreement with id 424242" in error_of(anonymous().get(f"{AGREEMENTS}424242/"), 404, "not_found")
    error_of(anonymous().get(f"{AGREEMENTS}{'9' * 30}/"), 404, "not_found")
    detail = error_of(anonymous().get(f"{AGREEMENTS}{world.cn_recognizes_cl.id}/?status=draft"), 400, "invalid_request")
    assert "unknown query parameters: status (accepted: none)" in detail


def test_public_reads_do_not_take_writes(world):
    for path in (AUTHORITIES, AGREEMENTS, f"{AGREEMENTS}{world.cn_recognizes_cl.id}/"):
        error_of(anonymous().post(path, {}, format="json"), 405, "method_not_allowed")


# Throttling ----------------------------------------------------------------------------------


def test_keyed_readers_are_throttled_and_anonymous_reads_are_not_counted(world, settings, platform_key):
    settings.API_THROTTLE_RATE = "2/min"
    platform = keyed(platform_key)
    assert [platform.get(AUTHORITIES).status_code for _ in range(2)] == [200, 200]
    response = platform.get(AUTHORITIES)
    error_of(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert {anonymous().get(AUTHORITIES).status_code for _ in range(4)} == {200}


# OpenAPI -------------------------------------------------------------------------------------


def test_every_read_endpoint_is_in_the_schema_with_its_errors(db):
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    for path in READ_PATHS:
        operation = schema["paths"][path]["get"]
        assert {"200", "400", "401"} <= set(operation["responses"]), path
    assert {"403"} <= set(schema["paths"]["/api/v1/audit/verifications/"]["get"]["responses"])
    for path in ("/api/v1/authorities/{id}/", "/api/v1/agreements/{id}/", "/api/v1/agreements/{id}/history/"):
        assert "404" in schema["paths"][path]["get"]["responses"], path
    listed = schema["paths"]["/api/v1/agreements/"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {
        "destination", "origin", "status", "credential_type", "page", "page_size",
    }  # fmt: skip
    page = schema["components"]["schemas"]["PaginatedAgreementList"]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    audit = schema["paths"]["/api/v1/audit/verifications/"]["get"]["responses"]["200"]["content"]
    assert set(audit) == {"application/json", "text/csv", "application/jsonl"}
    assert set(schema["components"]["schemas"]["PaginatedAuditRowList"]["properties"]) == {
        "next", "previous", "results",
    }  # fmt: skip


def test_spectacular_still_validates_without_warnings(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert set(READ_PATHS) <= set(json.loads(out.getvalue())["paths"])
