"""TRQP `authority_id` as a DID (DESIGN §9, README "TRQP"): a country's
alias `did:web:<registry host>:<code in lower case>` means that country
wherever an `authority_id` is, answers echo the `authority_id` as asked, and
a well-formed identifier the registry does not know is a 404 problem."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from identity.services.authorities import authority_create
from recognition.services.agreements import agreement_create
from tests.api.test_trqp import AUTHORIZATION, RECOGNITION, assert_problem, post, query

CN = "did:web:registry.example:cn"
CL = "did:web:registry.example:cl"
LOOKUPS = ["/trqp/lookups/assuranceLevels", "/trqp/lookups/authorizations", "/trqp/entities"]


def answer(url: str, body: dict) -> dict:
    response = post(url, body)
    assert response.status_code == 200, response.content
    return response.json()


def test_recognition_by_alias_is_recognition_by_country_and_echoes_the_alias(world):
    issuer = world.cl.authority.issuer
    by_alias = answer(RECOGNITION, query(issuer, CN, "recognize"))
    by_code = answer(RECOGNITION, query(issuer, "CN", "recognize"))
    assert by_alias["recognized"] is by_code["recognized"] is True
    assert by_alias["authority_id"] == CN and by_code["authority_id"] == "CN"
    assert by_alias["message"].startswith(f"CN recognized {issuer} for merchant-identity at ")


def test_an_alias_refuses_what_its_country_refuses(world):
    issuer = world.kz.authority.issuer
    assert answer(RECOGNITION, query(issuer, CN, "recognize"))["recognized"] is False
    assert answer(AUTHORIZATION, query(world.cl.authority.issuer, CN, "issue"))["authorized"] is False


def test_authorization_by_alias_echoes_the_alias(world):
    body = answer(AUTHORIZATION, query(world.cl.authority.issuer, CL, "issue"))
    assert (body["authority_id"], body["authorized"]) == (CL, True)


def test_lookups_and_entities_take_the_alias(world):
    client = APIClient()
    for url in LOOKUPS:
        by_alias = client.get(url, {"authority_id": CN})
        assert by_alias.status_code == 200, (url, by_alias.content)
    entities = client.get("/trqp/entities", {"authority_id": CN}).json()
    assert [(item["entity_id"], item["authority_id"]) for item in entities["items"]] == [
        (world.cn.authority.issuer, CN)
    ]


def test_every_alias_the_metadata_publishes_is_accepted(world):
    aliases = APIClient().get("/trqp/metadata").json()["authority_ids"]
    for country, alias in aliases.items():
        entities = APIClient().get("/trqp/entities", {"authority_id": alias}).json()["items"]
        assert entities and all(item["authority_id"] == alias for item in entities), country


def test_the_metadata_lists_no_country_known_only_from_a_draft(world):
    agreement_create(
        destination="FR",
        authority=world.cl.authority,
        credential_types=[world.merchant_identity],
        min_assurance="low",
        legal_basis="a memorandum in negotiation",
    )
    assert "FR" not in APIClient().get("/trqp/metadata").json()["authority_ids"]


def test_an_alias_of_a_country_with_no_authority_is_that_country(world):
    entities = APIClient().get("/trqp/entities", {"authority_id": "did:web:registry.example:fr"})
    assert entities.status_code == 200 and entities.json()["items"] == []


@pytest.mark.parametrize(
    "authority_id",
    [
        "did:example:ecosystem",
        "did:web:registry.example:CN",  # the alias is lower case, as published
        "did:web:registry.example:xx",  # no such country
        "did:web:registry.example:chn",
        "did:web:registry.example:cn:extra",
        "did:web:other.example:cn",
        "did:web:registry.example%3A8443:cn",  # the registry has no port
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "https://registry.example/cn",
    ],
)
def test_a_well_formed_authority_id_that_names_no_country_is_a_404_problem(world, authority_id):
    for url, action in [(AUTHORIZATION, "issue"), (RECOGNITION, "recognize")]:
        problem = assert_problem(
            post(url, query(world.cl.authority.issuer, authority_id, action)), 404, "unknown_authority"
        )
        assert authority_id in problem["detail"]
    for url in LOOKUPS:
        assert_problem(APIClient().get(url, {"authority_id": authority_id}), 404, "unknown_authority")


@pytest.mark.parametrize("authority_id", ["cn", "XX", "did:Web:registry.example:cn", "did:web:", "CN ", "ftp://x.test"])
def test_a_malformed_authority_id_stays_a_400_problem(world, authority_id):
    for url, action in [(AUTHORIZATION, "issue"), (RECOGNITION, "recognize")]:
        assert_problem(post(url, query(world.cl.authority.issuer, authority_id, action)), 400, "invalid_request")
    for url in LOOKUPS:
        assert_problem(APIClient().get(url, {"authority_id": authority_id}), 400, "invalid_request")


def test_a_malformed_query_is_a_400_before_an_unknown_authority_is_a_404(world):
    body = {**query(world.cl.authority.issuer, "did:example:ecosystem", "recognize"), "resource": ""}
    assert_problem(post(RECOGNITION, body), 400, "invalid_request")


def test_an_unknown_authority_is_reported_before_an_unknown_entity(world):
    body = query("did:example:entity123", "did:example:ecosystem", "issue")
    assert_problem(post(AUTHORIZATION, body), 404, "unknown_authority")
    assert_problem(post(AUTHORIZATION, {**body, "authority_id": CN}), 404, "unknown_entity")


@pytest.mark.parametrize("alias", ["did:web:registry.example%3A8443:cn", "did:web:REGISTRY.example%3a8443:cn"])
def test_a_port_of_the_registry_is_percent_encoded_in_the_alias(world, settings, alias):
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://registry.example:8443"}
    metadata = APIClient().get("/trqp/metadata").json()
    assert metadata["authority_ids"]["CN"] == "did:web:registry.example%3A8443:cn"
    body = answer(RECOGNITION, query(world.cl.authority.issuer, alias, "recognize"))
    assert (body["authority_id"], body["recognized"]) == (alias, True)
    problem = post(RECOGNITION, query(world.cl.authority.issuer, CN, "recognize"))
    assert_problem(problem, 404, "unknown_authority")


def test_an_issuer_without_a_host_publishes_no_alias(world, settings):
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "did:web:registry.example"}
    assert APIClient().get("/trqp/metadata").json()["authority_ids"] == {}
    assert_problem(post(RECOGNITION, query(world.cl.authority.issuer, CN, "recognize")), 404, "unknown_authority")


def test_a_registered_issuer_of_an_unusual_form_is_still_answered(world):
    odd = authority_create(country="CL", name="Odd issuer", issuer="did:Odd:issuer")
    assert answer(AUTHORIZATION, query(odd.issuer, "CL", "issue"))["authorized"] is True


def test_the_schema_documents_the_alias_and_the_404s(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    paths = schema["paths"]
    for url in (AUTHORIZATION, RECOGNITION):
        assert "unknown_authority" in paths[url]["post"]["responses"]["404"]["description"]
    for url in LOOKUPS:
        operation = paths[url]["get"]
        assert set(operation["responses"]["404"]["content"]) == {"application/problem+json"}, url
        (parameter,) = [p for p in operation["parameters"] if p["name"] == "authority_id"]
        assert "did:web:" in parameter["description"], url
    metadata = schema["components"]["schemas"]["TrqpMetadata"]
    assert (
        "authority_ids" in metadata["properties"]
        and "did:web:" in metadata["properties"]["authority_ids"]["description"]
    )
