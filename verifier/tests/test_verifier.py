"""The Verifier's decisions from the registry's lists (src/merchant_verifier/
verifier.py): the answer's shape, the subject each list gives, and the
credential status read from a status list beside the merchant's."""

import pytest
from registry_double import CL_ISSUER, CN_ISSUER, ISSUER, NOW, tampered

from merchant_verifier.status_list import INVALID, SUSPENDED

CL_TOKEN_FIELDS = {
    "issuer": {"issuer": CL_ISSUER, "name": "Registro de Empresas y Sociedades", "country": "CL"},
    "merchant": {"registration_number": "76.123.456-7", "legal_name": "Comercial Andes SpA", "status": "active"},
    "credential": {
        "jti": "credential-1",
        "type": "merchant-identity",
        "assurance": "substantial",
        "issued_at": "2026-03-01T11:00:00Z",
        "expires_at": "2026-03-31T11:00:00Z",
    },
}


def test_an_accepted_cross_border_credential_has_the_apis_answer_shape(verifier, registry):
    answer = verifier.verify(registry.credential(status_index=3), origin="CL")
    assert answer.accepted
    assert answer.to_dict() == {
        "decision": "accepted",
        "accepted": True,
        "reasons": [],
        "origin": "CL",
        "destination": "CN",
        "evaluated_at": "2026-03-01T12:00:00Z",
        **CL_TOKEN_FIELDS,
        "agreement": {"id": 7, "legal_basis": None, "valid_from": "2025-01-01T00:00:00Z", "valid_until": None},
    }


def test_an_answer_presents_the_decision_when_first_read_and_once(verifier, registry):
    answer = verifier.verify(registry.credential(status_index=3), origin="CL")
    assert (answer.decision, answer.accepted, answer.reasons, answer.destination) == ("accepted", True, (), "CN")
    assert answer._presented is None  # a platform reading only `accepted` pays for no dict
    issuer = answer.issuer
    assert issuer == CL_TOKEN_FIELDS["issuer"]
    assert answer.to_dict()["issuer"] is issuer  # built once, the same objects every read
    assert answer.merchant is answer.merchant
    assert answer == verifier.verify(registry.credential(status_index=3), origin="CL")
    assert answer != verifier.verify(registry.credential(status_index=3), origin="PE")


def test_a_domestic_credential_has_no_agreement(verifier, registry):
    answer = verifier.verify(registry.credential(issuer=CN_ISSUER))
    assert answer.accepted, answer.reasons
    assert answer.agreement is None
    assert answer.origin == "CN"
    assert "/api/v1/merchant-status/CN/" in registry.paths()


def test_a_rejection_lists_every_policy_reason_and_hides_nothing_verified(verifier, registry):
    token = registry.credential(assurance="low", credential_type="tax-registration")
    answer = verifier.verify(token, origin="PE")
    assert answer.decision == "rejected"
    assert answer.codes == ["origin_mismatch", "credential_type_not_recognized"]
    assert answer.issuer == CL_TOKEN_FIELDS["issuer"]


def test_a_token_whose_signature_fails_echoes_no_claim(verifier, registry):
    token = registry.credential()
    answer = verifier.verify(tampered(token))
    assert answer.codes == ["invalid_signature"]
    assert (answer.issuer, answer.merchant, answer.credential, answer.origin) == (None, None, None, None)


def test_a_malformed_token_is_refused_before_any_list_is_fetched(verifier, registry):
    answer = verifier.verify("not.a-token")
    assert answer.codes == ["malformed_token"]
    assert registry.requests == []


def test_an_issuer_absent_from_the_trust_list_is_unknown(verifier, registry):
    answer = verifier.verify(registry.credential(iss="https://elsewhere.example/registry"))
    assert answer.codes == ["unknown_issuer"]


def test_an_agreement_whose_window_ended_since_the_list_was_signed_is_not_in_force(verifier, registry, clock):
    registry.agreement_until = (NOW.replace(hour=13)).isoformat().replace("+00:00", "Z")
    registry.publish()  # signed at 12:00, while the agreement was in force
    clock.advance(hours=1, seconds=30)  # the list is still within its lifetime
    answer = verifier.verify(registry.credential())
    assert answer.codes == ["agreement_not_in_force"]


@pytest.mark.parametrize(("status", "code"), [("suspended", "merchant_suspended"), ("revoked", "merchant_revoked")])
def test_a_merchant_on_the_merchant_status_list_is_refused(verifier, registry, status, code):
    registry.list_merchant("76.123.456-7", status)
    answer = verifier.verify(registry.credential())
    assert answer.codes == [code]
    assert answer.merchant["status"] == status


def test_a_merchant_of_another_authority_with_the_same_number_is_not_refused(verifier, registry):
    registry.list_merchant("76.123.456-7", "revoked", issuer="https://other.example.cl/registry")
    assert verifier.verify(registry.credential()).accepted


@pytest.mark.parametrize(
    ("value", "merchant", "codes"),
    [
        (INVALID, None, ["credential_revoked"]),
        (SUSPENDED, None, ["credential_suspended"]),
        # An entry covers the merchant too: what the merchant's status explains is not the credential's.
        (INVALID, "revoked", ["merchant_revoked"]),
        (SUSPENDED, "suspended", ["merchant_suspended"]),
        (INVALID, "suspended", ["merchant_suspended", "credential_revoked"]),
    ],
)
def test_the_status_list_entry_read_beside_the_merchants_status(verifier, registry, value, merchant, codes):
    registry.set_status(5, value)
    if merchant:
        registry.list_merchant("76.123.456-7", merchant)
    assert verifier.verify(registry.credential(status_index=5)).codes == codes
    expected = codes[:1] if merchant else []  # a neighbour's entry: only the merchant's status
    assert verifier.verify(registry.credential(status_index=6)).codes == expected


@pytest.mark.parametrize(("status", "code"), [("revoked", "credential_revoked"), ("suspended", "credential_suspended")])
def test_a_credential_without_a_status_claim_is_found_by_jti(verifier, registry, status, code):
    registry.revoked_credentials.append({"issuer": CL_ISSUER, "jti": "credential-1", "status": status})
    registry.publish()
    assert verifier.verify(registry.credential()).codes == [code]
    assert verifier.verify(registry.credential(jti="credential-2")).accepted


def test_a_status_uri_of_another_host_is_never_fetched(verifier, registry):
    token = registry.credential(status={"status_list": {"idx": 1, "uri": "https://attacker.example/lists/1"}})
    assert verifier.verify(token).accepted
    assert not any("attacker" in path or "status-lists" in path for path in registry.paths())


def test_a_forged_token_makes_the_verifier_fetch_no_status_list(verifier, registry):
    token = registry.credential(status={"status_list": {"idx": 1, "uri": f"{ISSUER}/api/v1/status-lists/99/"}})
    assert verifier.verify(tampered(token)).codes == ["invalid_signature"]
    assert "/api/v1/status-lists/99/" not in registry.paths()


@pytest.mark.parametrize("index", [64, -1, 10**30, "3", None, True])
def test_an_index_outside_the_status_list_is_lists_unavailable(verifier, registry, index):
    answer = verifier.verify(
        registry.credential(status={"status_list": {"idx": index, "uri": f"{ISSUER}/api/v1/status-lists/1/"}})
    )
    assert answer.codes == ["lists_unavailable"]
    assert "status list 1" in answer.reasons[0]["detail"]
    assert "outside the list" in answer.reasons[0]["detail"]
    assert (answer.issuer, answer.merchant, answer.credential) == (None, None, None)


def test_an_unused_status_value_fails_closed(verifier, registry):
    registry.set_status(2, 3)
    answer = verifier.verify(registry.credential(status_index=2))
    assert answer.codes == ["lists_unavailable"]
    assert "value 3" in answer.reasons[0]["detail"]


def test_a_bad_country_code_is_a_value_error(make_verifier, verifier, registry):
    with pytest.raises(ValueError, match="ISO 3166-1"):
        make_verifier(destination="cn")
    with pytest.raises(ValueError, match="ISO 3166-1"):
        verifier.verify(registry.credential(), origin="Chile")
