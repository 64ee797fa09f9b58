"""The OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/ (DESIGN
§7): public; the verification endpoints described with their request and
answer bodies, every error answer and the Api-Key scheme; the reason codes
exactly those of recognition.reasons.Reason; Swagger UI served from our own
static files, never a CDN; `spectacular --validate --fail-on-warn` passes."""

import json
import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from identity.reasons import Reason

VERIFY_PATH = "/api/v1/verifications/"
BATCH_PATH = "/api/v1/verifications/batch/"
ANSWER_FIELDS = {
    "id",
    "decision",
    "accepted",
    "reasons",
    "origin",
    "destination",
    "evaluated_at",
    "issuer",
    "merchant",
    "credential",
    "agreement",
    "audit",
}


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def resolve(schema: dict, node: dict) -> dict:
    """Follow $ref, and the one-element allOf by which a nullable object refers
    to its component."""
    while "$ref" in node or len(node.get("allOf", ())) == 1:
        node = node["allOf"][0] if "allOf" in node else schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def body_schema(schema: dict, content_holder: dict) -> dict:
    return resolve(schema, content_holder["content"]["application/json"]["schema"])


def test_schema_is_public_in_yaml_and_json(db):
    client = APIClient()
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    parsed = yaml.safe_load(as_yaml.content)
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200
    assert json.loads(as_json.content) == parsed
    assert parsed["openapi"].startswith("3.")


def test_schema_ignores_an_authorization_header_meant_for_the_api(db):
    response = APIClient().get("/api/schema/?format=json", HTTP_AUTHORIZATION="Api-Key wrong.key")
    assert response.status_code == 200


@pytest.mark.parametrize("path", [VERIFY_PATH, BATCH_PATH])
def test_verification_endpoints_are_post_only_and_need_the_api_key(schema, path):
    operations = schema["paths"][path]
    assert set(operations) == {"post"}
    assert {"ApiKeyAuth": []} in operations["post"]["security"]


def test_api_key_security_scheme_is_the_authorization_header(schema):
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Api-Key <key>" in scheme["description"]


def test_single_request_body_has_token_destination_and_optional_origin(schema):
    operation = schema["paths"][VERIFY_PATH]["post"]
    assert operation["requestBody"]["required"] is True
    request = body_schema(schema, operation["requestBody"])
    assert set(request["properties"]) == {"token", "destination", "origin"}
    assert set(request["required"]) == {"token", "destination"}
    assert request["properties"]["origin"].get("nullable") is True


def test_batch_request_body_is_one_to_a_hundred_single_requests(schema):
    operation = schema["paths"][BATCH_PATH]["post"]
    request = body_schema(schema, operation["requestBody"])
    assert set(request["properties"]) == {"items"} and request["required"] == ["items"]
    items = request["properties"]["items"]
    assert (items["type"], items["minItems"], items["maxItems"]) == ("array", 1, 100)
    single = body_schema(schema, schema["paths"][VERIFY_PATH]["post"]["requestBody"])
    assert resolve(schema, items["items"]) == single


def test_answer_bodies_have_the_fields_of_design_section_5(schema):
    answer = body_schema(schema, schema["paths"][VERIFY_PATH]["post"]["responses"]["200"])
    assert set(answer["properties"]) == ANSWER_FIELDS
    assert set(answer["required"]) == ANSWER_FIELDS
    nested = {name: resolve(schema, answer["properties"][name]) for name in ("issuer", "merchant", "credential")}
    for name in ("origin", "issuer", "merchant", "credential", "agreement"):
        assert answer["properties"][name]["nullable"] is True, name
    assert set(nested["issuer"]["properties"]) == {"issuer", "name", "country"}
    assert set(nested["merchant"]["properties"]) == {"registration_number", "legal_name", "status"}
    assert set(nested["credential"]["properties"]) == {"jti", "type", "assurance", "issued_at", "expires_at"}
    agreement = answer["properties"]["agreement"]
    assert set(resolve(schema, agreement)["properties"]) == {"id", "legal_basis", "valid_from", "valid_until"}
    assert set(resolve(schema, answer["properties"]["audit"])["properties"]) == {"seq", "hash"}
    batch = body_schema(schema, schema["paths"][BATCH_PATH]["post"]["responses"]["200"])
    assert set(batch["properties"]) == {"results"}
    assert resolve(schema, batch["properties"]["results"]["items"]) == answer


@pytest.mark.parametrize("path", [VERIFY_PATH, BATCH_PATH])
def test_error_answers_are_documented_with_the_error_shape(schema, path):
    responses = schema["paths"][path]["post"]["responses"]
    assert {"200", "400", "401", "403", "413", "429"} <= set(responses)
    assert {"405", "415", "503"} <= set(responses)
    for status in set(responses) - {"200"}:
        error = body_schema(schema, responses[status])
        assert set(error["properties"]) == {"error", "detail"}, status
        assert responses[status]["description"], status
    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_reason_codes_are_exactly_the_27_of_the_reason_enum(schema):
    answer = body_schema(schema, schema["paths"][VERIFY_PATH]["post"]["responses"]["200"])
    reason = resolve(schema, answer["properties"]["reasons"]["items"])
    assert reason["properties"]["code"] == {"$ref": "#/components/schemas/ReasonCode"}
    codes = schema["components"]["schemas"]["ReasonCode"]["enum"]
    assert len(codes) == 27
    assert codes == list(Reason.values)


def test_spectacular_validates_without_warnings(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert VERIFY_PATH in json.loads(out.getvalue())["paths"]


def test_swagger_ui_is_public_html_loading_its_assets_from_our_static_files(db):
    client = APIClient()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for cdn in ("cdn", "unpkg", "jsdelivr", "cloudflare", "googleapis"):
        assert cdn not in page.lower(), cdn
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert any(asset.endswith("swagger-ui.css") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()  # a file response: release the file
    assert "/api/schema/" in page
