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

from core.countries import COUNTRY_CODES
from identity.reasons import Reason
from recognition.trqp.identifiers import DID_PATTERN, HTTPS_URL_PATTERN, is_identifier

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
    audit = resolve(schema, answer["properties"]["audit"])
    assert set(audit["properties"]) == set(audit["required"]) == {"id", "leaf_hash", "receipt"}
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


LOG = "/api/v1/audit/log/"
LOG_ENDPOINTS = {
    # path: (media type of the 200 answer, documented statuses, who)
    "checkpoint": ("text/plain", {200, 400, 503}, "public"),
    "key": ("text/plain", {200, 400, 503}, "public"),
    "consistency": ("application/json", {200, 400, 503}, "public"),
    "entries/{entry_id}/proof": ("application/json", {200, 400, 401, 404, 409, 429, 503}, "keyed"),
    "entries/{entry_id}/evidence": ("application/json", {200, 400, 401, 404, 409, 429, 503}, "keyed"),
    "tile/{path}": ("application/octet-stream", {200, 400, 401, 403, 404, 429, 503}, "public or keyed"),
}


@pytest.mark.parametrize("path", LOG_ENDPOINTS)
def test_the_log_endpoints_are_documented_with_their_media_types_statuses_and_callers(schema, path):
    media_type, statuses, who = LOG_ENDPOINTS[path]
    operations = schema["paths"][f"{LOG}{path}"]
    assert set(operations) == {"get"}
    operation = operations["get"]
    responses = operation["responses"]
    assert {int(status) for status in responses} == statuses
    assert set(responses["200"]["content"]) == {media_type}
    for status in statuses - {200}:
        # Errors are JSON, whatever the endpoint's own media type.
        assert responses[str(status)]["content"] == {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }, status
        assert responses[str(status)]["description"], status
    security = operation["security"]
    if who == "public":
        assert security == [{}]  # nothing is asked, nothing is checked
    else:
        assert {"ApiKeyAuth": []} in security
        assert ({} in security) is (who == "public or keyed")  # hash tiles public, entry bundles keyed


def test_the_log_answers_and_parameters_are_documented(schema):
    consistency = schema["paths"][f"{LOG}consistency"]["get"]
    assert {(p["name"], p["in"], p.get("required"), p["schema"]["minimum"]) for p in consistency["parameters"]} == {
        ("first", "query", True, 1),
        ("second", "query", True, 1),
    }
    answer = body_schema(schema, consistency["responses"]["200"])
    assert set(answer["properties"]) == {"first", "second", "proof"}
    proof = schema["paths"][f"{LOG}entries/{{entry_id}}/proof"]["get"]
    parameters = {p["name"]: p for p in proof["parameters"]}
    assert parameters["entry_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert (parameters["size"]["in"], parameters["size"].get("required", False)) == ("query", False)
    answer = body_schema(schema, proof["responses"]["200"])
    fields = {"id", "seq", "leaf_hash", "entry", "size", "inclusion", "checkpoint"}
    assert set(answer["properties"]) == set(answer["required"]) == fields
    tile = schema["paths"][f"{LOG}tile/{{path}}"]["get"]
    assert tile["responses"]["200"]["content"]["application/octet-stream"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    for path in ("checkpoint", "key"):
        assert schema["paths"][f"{LOG}{path}"]["get"]["responses"]["200"]["content"]["text/plain"]["schema"] == {
            "type": "string"
        }


def test_reason_codes_are_exactly_the_28_of_the_reason_enum(schema):
    answer = body_schema(schema, schema["paths"][VERIFY_PATH]["post"]["responses"]["200"])
    reason = resolve(schema, answer["properties"]["reasons"]["items"])
    assert reason["properties"]["code"] == {"$ref": "#/components/schemas/ReasonCode"}
    codes = schema["components"]["schemas"]["ReasonCode"]["enum"]
    assert len(codes) == 28  # DESIGN.md's 27 and credential_suspended
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


def json_schema_of(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, everywhere."""
    if isinstance(node, list):
        return [json_schema_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema_of(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_documented_example_is_an_instance_of_its_schema(schema):
    """The examples a reader copies from the documentation are answers the
    API can give: their fields are those of the schema (an example left in
    an old shape fails here)."""
    import jsonschema

    components = json_schema_of(schema["components"])
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            holders = [("request", operation.get("requestBody", {}))]
            holders += [(status, answer) for status, answer in operation.get("responses", {}).items()]
            for where, holder in holders:
                for media, content in holder.get("content", {}).items():
                    for name, example in content.get("examples", {}).items():
                        node = {**json_schema_of(content["schema"]), "components": components}
                        try:
                            jsonschema.validate(example["value"], node)
                        except jsonschema.ValidationError as error:
                            pytest.fail(f"{method.upper()} {path} {where} {media} example {name!r}: {error.message}")
                        checked += 1
    assert checked >= 4  # the verification answers, accepted and rejected, single and batch, at least


# Country codes (DESIGN §2) -------------------------------------------------------------------

COUNTRY_REF = {"$ref": "#/components/schemas/CountryCode"}
COUNTRY_NAMES = {"country", "destination", "origin", "authority_id"}


def country_schemas(schema: dict) -> list[tuple[str, dict]]:
    """Every parameter and request member named like a country, with its schema."""
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in COUNTRY_NAMES:
                    found.append((f"{method.upper()} {path} {parameter['name']}", parameter["schema"]))
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            for member, member_schema in component.get("properties", {}).items():
                if member in COUNTRY_NAMES:
                    found.append((f"{name}.{member}", member_schema))
    return found


def test_the_country_enum_is_the_list_the_validation_reads(schema):
    codes = schema["components"]["schemas"]["CountryCode"]
    assert (codes["type"], codes["enum"]) == ("string", list(COUNTRY_CODES))
    assert {"CN", "CL", "KZ"} <= set(codes["enum"]) and not {"AA", "ZZ", "cn", "EU"} & set(codes["enum"])


def test_every_country_parameter_and_member_is_the_enum(schema):
    """Path, query and body alike: nothing admits a code the API refuses.
    TRQP's authority_id is the enum or one of the identifier forms of
    DESIGN §9 (a country's did:web alias; another DID or https URL is an
    unknown authority, 404), each an exact pattern."""
    found = country_schemas(schema)
    assert len(found) >= 15
    for where, node in found:
        if where.endswith("authority_id"):
            assert node["anyOf"] == TRQP_AUTHORITY_ID["anyOf"], where
            continue
        branches = node.get("allOf") or node.get("oneOf") or [node]
        assert COUNTRY_REF in branches, where
        assert all(branch == COUNTRY_REF or branch.get("$ref", "").endswith("/NullEnum") for branch in branches), where
        assert "pattern" not in node, where


TRQP_AUTHORITY_ID = {
    "anyOf": [
        COUNTRY_REF,
        {"type": "string", "pattern": DID_PATTERN, "maxLength": 500},
        {"type": "string", "pattern": HTTPS_URL_PATTERN, "maxLength": 500},
    ]
}


@pytest.mark.parametrize(
    ("value", "form"),
    [
        ("did:web:registry.example:cn", "did"),
        ("did:example:123456789abcdefghi", "did"),
        ("did:web:registry.example%3A8000:cl", "did"),
        ("https://registro-cl.test/issuer", "url"),
        ("https://a.example:8443/x?y=1", "url"),
        ("did:Web:x", None),
        ("did:web:", None),
        ("did:web:a b", None),
        ("did:web:x\n", None),
        ("https://", None),
        ("https://host:99999/", None),
        ("https://h\u00e9st/", None),
        ("http://registro-cl.test/issuer", None),
        ("cn", None),
    ],
)
def test_the_identifier_patterns_admit_exactly_what_the_trqp_fields_accept(value, form):
    """The schema's patterns (ECMA-262, read here as Python reads them: the
    same for these ASCII classes) and the fields' checks are one definition."""
    value = value.encode().decode("unicode_escape")
    assert (re.fullmatch(DID_PATTERN, value) is not None) is (form == "did")
    assert (re.fullmatch(HTTPS_URL_PATTERN, value) is not None) is (form == "url")
    assert is_identifier(value) is (form is not None)


def test_every_code_of_the_enum_is_accepted_and_no_other(schema, world):
    client = APIClient()
    for code in schema["components"]["schemas"]["CountryCode"]["enum"]:
        assert client.get("/api/v1/authorities/", {"country": code}).status_code == 200, code
    for code in ("AA", "ZZ", "XX", "cn"):
        assert client.get("/api/v1/authorities/", {"country": code}).status_code == 400, code


# Signed documents (DESIGN §10) ---------------------------------------------------------------


def test_the_trust_list_is_documented_as_a_compact_jws_and_nothing_else(schema):
    """application/jwt only, and no JSON schema: schema-driven clients read
    application/jwt as JSON and would parse the JWS against it."""
    answer = schema["paths"]["/api/v1/trust-lists/{country}/"]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["application/jwt"]
    assert "schema" not in answer["content"]["application/jwt"]
    assert "compact JWS" in answer["description"]


def test_no_compact_jws_answer_carries_a_json_schema(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for media_type, content in answer.get("content", {}).items():
                    if media_type == "application/jwt" or media_type.endswith("+jwt"):
                        assert "schema" not in content, f"{method.upper()} {path} {status} {media_type}"


@pytest.mark.parametrize(
    ("path", "parameter", "media_type"),
    [
        ("/api/v1/status-lists/{number}/", "number", "application/statuslist+jwt"),
        ("/api/v1/merchant-status/{country}/", "country", "application/jwt"),
    ],
)
def test_status_documents_are_documented(schema, path, parameter, media_type):
    operation = schema["paths"][path]["get"]
    parameters = {(p["name"], p["in"]): p for p in operation["parameters"]}
    assert parameters[(parameter, "path")]["required"] is True
    time_parameter = parameters[("time", "query")]
    assert time_parameter.get("required", False) is False
    assert time_parameter["schema"]["format"] == "date-time"
    ok = operation["responses"]["200"]
    assert list(ok["content"]) == [media_type]
    assert "ttl" in ok["description"] and "exp" in ok["description"]
    assert {"200", "304", "400"} <= set(operation["responses"])
    assert operation.get("security", [{}]) in ([{}], [])
    if parameter == "number":
        assert "404" in operation["responses"]
