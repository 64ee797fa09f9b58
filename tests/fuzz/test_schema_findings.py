"""What schema-driven fuzzing found, kept fixed: the schema
now says what the code enforces, and the code does what the schema says.
The statuses and media types themselves are checked by
test_documented_statuses.py; the HTML 400 of too many query fields by
tests/config/test_request_limits.py."""

import json

import pytest
from django.test import Client

from tests.fuzz.conftest import SCHEMA

COMPONENTS = SCHEMA.raw_schema["components"]["schemas"]
REQUEST_OBJECTS = [
    "VerificationRequest",
    "VerificationBatchRequest",
    "TrqpAuthorizationQueryRequest",
    "TrqpRecognitionQueryRequest",
    "TrqpContextRequest",
]


@pytest.mark.parametrize("name", REQUEST_OBJECTS)
def test_request_objects_refuse_undeclared_members_in_the_schema_as_in_the_code(name):
    assert COMPONENTS[name]["additionalProperties"] is False


def test_an_undeclared_member_is_refused(world):
    body = {"entity_id": "https://registro-cl.test/issuer", "authority_id": "CL", "action": "issue"}
    response = Client().post(
        "/trqp/authorization", {**body, "resource": "merchant-identity", "extra": 1}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "unknown fields: extra" in response.json()["detail"]


def test_country_codes_are_the_enum_of_iso_codes_in_the_schema():
    """`AA` matched the old pattern and was refused: the enum says which codes."""
    destination = COMPONENTS["VerificationRequest"]["properties"]["destination"]
    assert destination["allOf"] == [{"$ref": "#/components/schemas/CountryCode"}]
    origin = COMPONENTS["VerificationRequest"]["properties"]["origin"]
    assert origin["oneOf"] == [{"$ref": "#/components/schemas/CountryCode"}, {"$ref": "#/components/schemas/NullEnum"}]
    parameters = SCHEMA.raw_schema["paths"]["/api/v1/trust-lists/{country}/"]["get"]["parameters"]
    country = next(parameter for parameter in parameters if parameter["name"] == "country")
    assert country["schema"] == {"$ref": "#/components/schemas/CountryCode"}
    assert "CN" in COMPONENTS["CountryCode"]["enum"] and "AA" not in COMPONENTS["CountryCode"]["enum"]


def test_a_trqp_query_with_a_null_context_is_answered_as_the_schema_allows(world):
    assert COMPONENTS["TrqpAuthorizationQueryRequest"]["properties"]["context"]["nullable"] is True
    query = {
        "entity_id": "https://registro-cl.test/issuer",
        "authority_id": "CL",
        "action": "issue",
        "resource": "merchant-identity",
        "context": None,
    }
    response = Client().post("/trqp/authorization", json.dumps(query), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["authorized"] is True


@pytest.mark.parametrize("path", ["/trqp/lookups/assuranceLevels"])
def test_answers_that_never_read_the_database_document_no_503(path):
    assert "503" not in SCHEMA.raw_schema["paths"][path]["get"]["responses"]


def test_the_metadata_reads_the_served_countries_so_documents_its_503():
    assert "503" in SCHEMA.raw_schema["paths"]["/trqp/metadata"]["get"]["responses"]


def test_trqp_documents_its_413_as_a_problem():
    for path in ("/trqp/authorization", "/trqp/recognition"):
        assert list(SCHEMA.raw_schema["paths"][path]["post"]["responses"]["413"]["content"]) == [
            "application/problem+json"
        ]


def test_request_strings_that_refuse_a_nul_say_so_in_the_schema(world):
    """A NUL in `resource` is a 400; the schema's pattern refuses it too. The
    token alone takes any string (a malformed token is a recorded rejection)."""
    resource = COMPONENTS["TrqpRecognitionQueryRequest"]["properties"]["resource"]
    assert resource["pattern"] == "^[^\\u0000]*$"
    assert "pattern" not in COMPONENTS["VerificationRequest"]["properties"]["token"]
    query = {"entity_id": "https://registro-cl.test/issuer", "authority_id": "CN", "action": "recognize"}
    response = Client().post(
        "/trqp/recognition",
        json.dumps({**query, "resource": "merchant\u0000identity"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "resource: Null characters are not allowed" in response.json()["detail"]
