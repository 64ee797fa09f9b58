"""GET /api/v1/audit/log/entries/{id}/evidence (DESIGN §11): the evidence of a
decision, for regulators (key or staff session) and the API key that made it;
404 for another key, a country administrator's session, an unknown id and a
registry change's entry (only decisions have evidence); 401 without a key;
409 with Retry-After before the served checkpoint holds it; 429 past the read
budget. The document holds the rules as of the decision: the agreement
version applied, the authority and key records at or before its instant;
when the decision used none, it says why."""

import base64
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jwk, jws
from rest_framework.test import APIClient

from accounts.services import api_key_create
from identity.services.keys import key_retire
from recognition.log.evidence import check
from recognition.log.integrator import integrate_all
from recognition.log.keys import log_key
from recognition.models import ChangeRecord, LogEntry
from recognition.services.agreements import agreement_update_terms
from tests.support.api import error_of, keyed, session
from tests.support.evidence import as_file, cosigned_by, decided, evidence_of, evidence_url, witness
from tests.support.tokens import sign

WITNESS = witness("cl-regulator-witness")


@pytest.fixture(autouse=True)
def cosigned(monkeypatch) -> None:
    cosigned_by(monkeypatch, [WITNESS])


def entry_fields(proven: dict) -> dict:
    return json.loads(proven["entry"])


def record_entry(model: str, history_id: int) -> str:
    return str(ChangeRecord.objects.get(model=model, history_id=history_id).entry_id)


def test_regulators_and_the_key_that_decided_get_the_same_document(world, api, settings, regulator_key):
    mine = decided(api, settings, sign(world.cl))
    documents = [
        evidence_of(who, mine)
        for who in (keyed(api.key), keyed(regulator_key), session(world.rita), session(world.root), keyed(api.key))
    ]
    assert all(document == documents[0] for document in documents)  # the receipt too: one per decision and key
    assert check(as_file(documents[0]), log_keys=[log_key().vkey], witness_keys=[WITNESS.vkey]).failures == []


def test_anyone_else_gets_a_404_and_no_key_a_401(world, api, settings):
    mine = decided(api, settings, sign(world.cl))
    other = keyed(api_key_create(name="other-shop", role="platform")[1])
    assert error_of(other.get(evidence_url(mine)), 404, "not_found") == f"no decision {mine} this caller may see"
    error_of(session(world.alice).get(evidence_url(mine)), 404, "not_found")  # no API key's decisions
    error_of(session(world.bob).get(evidence_url(mine)), 404, "not_found")
    error_of(APIClient().get(evidence_url(mine)), 401, "not_authenticated")
    refused = APIClient().get(evidence_url(mine), HTTP_AUTHORIZATION="Api-Key unknownprefix.0123456789abcdef")
    error_of(refused, 401, "authentication_failed")
    error_of(keyed(api.key).get(evidence_url(mine) + "?size=3"), 400, "invalid_request")


def test_a_change_entry_or_an_unknown_id_has_no_evidence(world, regulator, settings, api):
    decided(api, settings, sign(world.cl))
    change = LogEntry.objects.filter(kind="change").first().id
    detail = error_of(regulator.get(evidence_url(change)), 404, "not_found")
    assert detail == f"log entry {change} is a registry change: only decisions have evidence"
    unknown = uuid.uuid4()
    assert error_of(regulator.get(evidence_url(unknown)), 404, "not_found") == f"no log entry {unknown}"
    error_of(regulator.get(f"/api/v1/audit/log/entries/{str(unknown).upper()}x/evidence"), 404, "not_found")


def test_before_the_served_checkpoint_holds_it_a_409_with_retry_after(world, api, settings):
    integrate_all()
    pending = api.verify(sign(world.cl), "CN").json()["id"]
    response = keyed(api.key).get(evidence_url(pending))
    assert "no served checkpoint" in error_of(response, 409, "not_yet_integrated")
    assert int(response["Retry-After"]) >= 1
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    integrate_all()
    assert evidence_of(keyed(api.key), pending)["decision"]["id"] == pending


@pytest.mark.usefixtures("fresh_throttle_counters")
def test_it_counts_against_the_read_budget(world, api, settings):
    mine = decided(api, settings, sign(world.cl))
    settings.API_THROTTLE_RATE = "2/min"
    client = keyed(api.key)
    assert [client.get(evidence_url(mine)).status_code for _ in range(2)] == [200, 200]
    response = client.get(evidence_url(mine))
    error_of(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_it_is_private_to_its_caller(world, api, settings):
    response = keyed(api.key).get(evidence_url(decided(api, settings, sign(world.cl))))
    assert response["Cache-Control"] == "private, no-store"


def test_the_rules_are_those_in_force_at_the_decisions_instant(world, api, settings):
    agreement, key = world.cn_recognizes_cl, world.cl.key
    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity],
        min_assurance="low",
        valid_from=agreement.valid_from,
        valid_until=timezone.now() + timedelta(days=400),
        legal_basis=agreement.legal_basis,
        reference_url="",
        notes="renewed",
    )
    version = agreement.history.order_by("-history_id").first().history_id
    key_version = key.history.order_by("-history_id").first().history_id
    mine = decided(api, settings, sign(world.cl))
    key_retire(key=key)  # after the decision: not the key it used
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    integrate_all()
    document = evidence_of(keyed(api.key), mine)
    assert document["absent"] == {}
    assert document["agreement"]["id"] == record_entry("recognition.recognitionagreement", version)
    assert entry_fields(document["agreement"])["values"]["notes"] == "renewed"
    assert document["authority"]["id"] == record_entry(
        "identity.authority", world.cl.authority.history.order_by("-history_id").first().history_id
    )
    assert document["key"]["id"] == record_entry("identity.authoritykey", key_version)
    assert entry_fields(document["key"])["values"]["status"] == "active"
    assert check(as_file(document)).failures == []


def test_a_domestic_decision_proves_its_key_and_says_it_applied_no_agreement(world, api, settings):
    document = evidence_of(keyed(api.key), decided(api, settings, sign(world.cn), destination="CN"))
    assert document["agreement"] is None
    assert document["absent"] == {
        "agreement": "the decision applied no agreement (a domestic check, or rejected before an agreement was found)"
    }
    assert entry_fields(document["key"])["values"]["kid"] == world.cn.key.kid
    outcome = check(as_file(document))
    assert outcome.failures == []
    assert "No agreement change entry: the decision applied no agreement" in outcome.paragraph


def test_an_unknown_issuer_proves_the_decision_alone_and_says_why(world, api, settings):
    document = evidence_of(
        keyed(api.key), decided(api, settings, sign(world.cl, iss="https://nowhere.test/issuer"), destination="CN")
    )
    assert (document["agreement"], document["authority"], document["key"]) == (None, None, None)
    assert (
        document["absent"]["authority"] == "no authority in the log had the issuer 'https://nowhere.test/issuer' then"
    )
    assert document["absent"]["key"] == "no key without the issuer's authority"
    outcome = check(as_file(document), log_keys=[log_key().vkey])
    assert outcome.failures == []
    assert "rejected (reasons: " in outcome.paragraph


def test_the_receipt_verifies_with_a_jose_library_and_names_the_decision(world, api, settings):
    answer = api.verify(sign(world.cl), "CN").json()
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    integrate_all()
    document = evidence_of(keyed(api.key), answer["id"])
    public = log_key().private_key.public_key().public_bytes_raw()
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(public).rstrip(b"=").decode())

    def payload(receipt: str) -> dict:
        signed = jws.JWS()
        signed.deserialize(receipt)
        signed.verify(key, alg="EdDSA")
        return json.loads(signed.payload)

    promised, answered = payload(document["receipt"]), payload(answer["audit"]["receipt"])
    assert promised["id"] == answer["id"] == answered["id"]
    assert promised["leaf_hash"] == document["decision"]["leaf_hash"]
    assert abs(promised["iat"] - answered["iat"]) <= 1


def test_the_document_is_an_instance_of_its_documented_schema(world, api, settings):
    import jsonschema

    from tests.api.test_openapi import json_schema_of

    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    answer = schema["paths"]["/api/v1/audit/log/entries/{entry_id}/evidence"]["get"]["responses"]["200"]
    node = {**json_schema_of(answer["content"]["application/json"]["schema"])}
    node["components"] = json_schema_of(schema["components"])
    for token in (sign(world.cl), sign(world.cl, header={"kid": "k-2019"})):
        document = evidence_of(keyed(api.key), decided(api, settings, token))
        jsonschema.validate(document, node)
        documented = node["components"]["schemas"]["Evidence"]
        assert set(documented["required"]) == set(document)
