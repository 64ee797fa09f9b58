"""Every reason code of DESIGN §5, produced through the HTTP API from a
crafted token, and the response shape field for field."""

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from identity.models import AuthorityKey
from identity.services.authorities import authority_set_status, authority_suspend, authority_update
from identity.services.credentials import credential_issue, credential_revoke
from identity.services.keys import key_mark_compromised, key_retire
from identity.services.merchants import merchant_set_status, merchant_suspend
from recognition.models import RecognitionAgreement, Verification
from recognition.services import agreements
from tests.support.audit import audit_of
from tests.support.tokens import DROP, TYP, raw, sign

NOW = int(time.time())


def test_accepted_answer_has_every_documented_field(world, api):
    response = api.verify(sign(world.cl), "CN", "CL")
    assert response.status_code == 200
    body = response.json()
    record = Verification.objects.get()
    assert set(body) == {
        "id", "decision", "accepted", "reasons", "origin", "destination", "evaluated_at",
        "issuer", "merchant", "credential", "agreement", "audit",
    }  # fmt: skip
    assert body["id"] == str(record.id)
    assert (body["decision"], body["accepted"], body["reasons"]) == ("accepted", True, [])
    assert (body["origin"], body["destination"]) == ("CL", "CN")
    assert body["evaluated_at"].endswith("Z")
    assert body["issuer"] == {
        "issuer": "https://registro-cl.test/issuer",
        "name": world.cl.authority.name,
        "country": "CL",
    }
    assert body["merchant"] == {
        "registration_number": "CL-0001",
        "legal_name": world.cl.merchant.legal_name,
        "status": "active",
    }
    assert body["credential"]["type"] == "merchant-identity" and body["credential"]["assurance"] == "substantial"
    assert body["credential"]["issued_at"].endswith("Z") and body["credential"]["expires_at"].endswith("Z")
    agreement = world.cn_recognizes_cl
    assert body["agreement"]["id"] == agreement.id and body["agreement"]["legal_basis"] == agreement.legal_basis
    assert body["agreement"]["valid_until"] is None
    assert body["audit"] == audit_of(record, body["audit"])


def test_domestic_credential_is_accepted_without_agreement(world, api):
    body = api.verify(sign(world.cn), "CN").json()
    assert body["accepted"] and body["agreement"] is None and body["origin"] == "CN"


def test_rejection_is_a_200_answer_with_reasons_and_no_unverified_facts(world, api):
    response = api.verify(sign(world.cl)[:-6] + "AAAAAA", "CN")
    assert response.status_code == 200
    body = response.json()
    assert (body["decision"], body["accepted"]) == ("rejected", False)
    assert [r["code"] for r in body["reasons"]] == ["invalid_signature"]
    assert body["issuer"] is None and body["merchant"] is None and body["credential"] is None
    assert body["origin"] is None


@override_settings(REGISTRY={**__import__("django.conf").conf.settings.REGISTRY, "MAX_TOKEN_BYTES": 512})
def test_token_too_large(world, api):
    assert api.codes("a" * 513) == ["token_too_large"]


def test_malformed_token(world, api):
    assert api.codes("not-a-jws") == ["malformed_token"]


def test_unsupported_algorithm(world, api):
    assert api.codes(raw({"alg": "HS512", "typ": TYP, "kid": "k"}, {"iss": "x"})) == ["unsupported_algorithm"]


def test_wrong_token_type(world, api):
    assert api.codes(sign(world.cl, header={"typ": "JWT"})) == ["wrong_token_type"]


def test_typ_accepts_the_application_prefix_in_any_case(world, api):
    assert api.codes(sign(world.cl, header={"typ": "Application/Merchant-Credential+JWT"}), "CN") == []


def test_untrusted_header(world, api):
    assert api.codes(sign(world.cl, header={"jku": "https://evil.test/jwks"})) == ["untrusted_header"]


def test_missing_kid(world, api):
    assert api.codes(raw({"alg": "EdDSA", "typ": TYP}, {"iss": world.cl.authority.issuer})) == ["missing_kid"]


def test_unknown_issuer(world, api):
    assert api.codes(sign(world.cl, iss="https://unknown.test/issuer")) == ["unknown_issuer"]
    assert api.codes(sign(world.cl, iss=DROP)) == ["unknown_issuer"]


def test_unknown_key(world, api):
    assert api.codes(sign(world.cl, header={"kid": "no-such-kid"})) == ["unknown_key"]


def test_algorithm_mismatch(world, api):
    token = raw({"alg": "ES256", "typ": TYP, "kid": world.cl.key.kid}, {"iss": world.cl.authority.issuer})
    assert api.codes(token) == ["algorithm_mismatch"]


def test_invalid_signature(world, api):
    forged = sign(world.cl).rsplit(".", 1)[0] + "." + sign(world.kz).rsplit(".", 1)[1]
    assert api.codes(forged) == ["invalid_signature"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"jti": DROP},
        {"exp": DROP},
        {"iat": str(NOW)},
        {"assurance": "medium"},
        {"merchant": "CL-0001"},
        {"merchant": {"legal_name": "X", "registration_number": "CL-0002", "country": "CL"}},
        {"merchant": {"legal_name": "X", "registration_number": "CL-0001", "country": "CN"}},
        {"iat": NOW - 60, "exp": NOW - 60 + 401 * 86400},
    ],
    ids=[
        "no-jti",
        "no-exp",
        "iat-string",
        "bad-assurance",
        "merchant-not-object",
        "merchant-sub",
        "merchant-country",
        "lifetime",
    ],
)
def test_invalid_claim(world, api, overrides):
    assert api.codes(sign(world.cl, **overrides)) == ["invalid_claim"]


def test_expired(world, api):
    assert api.codes(sign(world.cl, iat=NOW - 7200, exp=NOW - 3600)) == ["expired"]


def test_not_yet_valid(world, api):
    assert api.codes(sign(world.cl, nbf=NOW + 3600)) == ["not_yet_valid"]
    assert api.codes(sign(world.cl, iat=NOW + 3600, nbf=DROP)) == ["not_yet_valid"]


def test_key_compromised(world, api):
    token = sign(world.cl)
    key_mark_compromised(key=world.cl.key)
    assert api.codes(token) == ["key_compromised"]


def test_key_not_valid_at_issuance(world, api):
    assert api.codes(sign(world.cl, iat=NOW - 40 * 86400)) == ["key_not_valid_at_issuance"]
    AuthorityKey.objects.filter(pk=world.cl.key.pk).update(not_after=timezone.now() - timedelta(hours=1))
    assert api.codes(sign(world.cl)) == ["key_not_valid_at_issuance"]


def test_retired_key_keeps_its_earlier_credentials(world, api):
    now = int(time.time())
    earlier = sign(world.cl, iat=now - 3600)
    key_retire(key=world.cl.key)
    assert api.codes(earlier) == []
    # Issued after the retirement, but within the leeway so that only the key rule fires.
    assert api.codes(sign(world.cl, iat=int(time.time()) + 5)) == ["key_not_valid_at_issuance"]


@pytest.mark.parametrize(("status", "code"), [("suspended", "issuer_suspended"), ("revoked", "issuer_revoked")])
def test_issuer_status(world, api, status, code):
    authority_set_status(authority=world.cl.authority, status=status)
    assert api.codes(sign(world.cl)) == [code]


def test_unknown_merchant(world, api):
    merchant = {"legal_name": "Ghost", "registration_number": "CL-9999", "country": "CL"}
    assert api.codes(sign(world.cl, sub="CL-9999", merchant=merchant)) == ["unknown_merchant"]


@pytest.mark.parametrize(("status", "code"), [("suspended", "merchant_suspended"), ("revoked", "merchant_revoked")])
def test_merchant_status(world, api, status, code):
    merchant_set_status(merchant=world.cl.merchant, status=status)
    assert api.codes(sign(world.cl)) == [code]


def test_credential_revoked(world, api):
    issued = credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
    )
    assert api.codes(issued.token) == []
    credential_revoke(credential=issued.credential, reason="fraud")
    assert api.codes(issued.token) == ["credential_revoked"]


def test_assurance_exceeds_accreditation(world, api):
    authority_update(authority=world.cl.authority, name="Registro", max_assurance="low")
    assert api.codes(sign(world.cl, assurance="substantial")) == ["assurance_exceeds_accreditation"]


def test_origin_mismatch(world, api):
    assert api.codes(sign(world.cl), "CN", "VN") == ["origin_mismatch"]


def test_no_agreement(world, api):
    assert api.codes(sign(world.kz), "CN") == ["no_agreement"]


def test_agreement_not_in_force(world, api):
    agreements.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert api.codes(sign(world.cl)) == ["agreement_not_in_force"]


def test_agreement_window_in_the_past_is_not_in_force(world, api):
    RecognitionAgreement.objects.filter(pk=world.cn_recognizes_cl.pk).update(
        valid_until=timezone.now() - timedelta(days=1)
    )
    assert api.codes(sign(world.cl)) == ["agreement_not_in_force"]


def test_credential_type_not_recognized(world, api):
    assert api.codes(sign(world.cl, credential_type="export-licence")) == ["credential_type_not_recognized"]


def test_assurance_below_minimum(world, api):
    agreements.agreement_update_terms(
        agreement=world.cn_recognizes_cl, credential_types=[world.merchant_identity], min_assurance="high"
    )
    body = api.verify(sign(world.cl)).json()
    assert [r["code"] for r in body["reasons"]] == ["assurance_below_minimum"]
    assert body["agreement"]["id"] == world.cn_recognizes_cl.id


def test_every_policy_failure_is_reported_together(world, api):
    token = sign(world.cl, iat=NOW - 7200, exp=NOW - 3600, credential_type="export-licence")
    key_mark_compromised(key=world.cl.key)
    merchant_suspend(merchant=world.cl.merchant)
    authority_suspend(authority=world.cl.authority)
    assert api.codes(token, "CN", "KZ") == [
        "expired",
        "key_compromised",
        "issuer_suspended",
        "merchant_suspended",
        "origin_mismatch",
        "credential_type_not_recognized",
    ]
