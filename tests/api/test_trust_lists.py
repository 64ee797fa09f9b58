"""Signed trust lists and the registry's keys (DESIGN §7, §10):
GET /api/v1/trust-lists/{country}/ and GET /.well-known/jwks.json, public,
and `rotate_registry_key`.

Every list here is verified with jwcrypto, not with PyJWT which signed it,
against the keys fetched from /.well-known/jwks.json. At the end, deciding
offline from a list (tests/support/offline_verifier.py) is compared with the API's
decision for the same tokens.
"""

import base64
import io
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from identity.jose.key_files import public_jwk_of
from identity.services.authorities import authority_suspend, authority_update
from identity.services.keys import key_mark_compromised, key_register, key_retire
from identity.services.merchants import merchant_reinstate, merchant_suspend
from recognition.models import RegistryKey
from recognition.services import agreements as agreement_services
from recognition.services.point_in_time import recognition_at
from recognition.services.registry_keys import registry_key_rotate
from tests.api.conftest import TRUST_LIST_TTL as TTL
from tests.support.offline_verifier import TrustListRefused, decide_offline, verify_trust_list
from tests.support.tokens import TYP, claims_for, sign

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
AUTHORITY_FIELDS = {"issuer", "name", "country", "status", "max_assurance", "jwks", "recognized_for"}
KEY_REGISTRY_MEMBERS = {"status", "not_before", "not_after", "retired_at", "compromised_at"}


@pytest.fixture
def anon(registry_key) -> APIClient:
    """Trust lists are public: no API key."""
    return APIClient()


def fetch(anon: APIClient, country: str = "CN") -> str:
    response = anon.get(f"/api/v1/trust-lists/{country}/")
    assert response.status_code == 200, response.content
    return response.content.decode("ascii")


def registry_jwks(anon: APIClient) -> dict:
    response = anon.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()


def _segment(compact: str, index: int) -> dict:
    segment = compact.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def header_of(compact: str) -> dict:
    return _segment(compact, 0)


def unverified_payload(compact: str) -> dict:
    return _segment(compact, 1)


def verified(anon: APIClient, country: str = "CN") -> dict:
    return verify_trust_list(
        fetch(anon, country),
        registry_jwks(anon),
        country=country,
        issuer="https://registry.example",
        now=datetime.now(UTC),
    )


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def by_issuer(payload: dict) -> dict[str, dict]:
    return {authority["issuer"]: authority for authority in payload["authorities"]}


# The list and its envelope -------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_trust_list_verifies_with_jwcrypto_against_the_well_known_keys(world, anon, settings, alg):
    registry_key_rotate(alg=alg)
    response = anon.get("/api/v1/trust-lists/CN/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwt"
    max_age = int(response["Cache-Control"].split("max-age=")[1])
    assert 0 < max_age <= TTL
    header = header_of(response.content.decode())
    assert (header["typ"], header["alg"]) == ("trust-list+jwt", alg)
    payload = verified(anon)
    assert set(payload) == {"iss", "sub", "iat", "exp", "sequence", "authorities"}
    assert (payload["iss"], payload["sub"]) == ("https://registry.example", "CN")
    assert payload["exp"] - payload["iat"] == TTL
    assert abs(payload["iat"] - datetime.now(UTC).timestamp()) < 60
    assert isinstance(payload["sequence"], int) and payload["sequence"] >= 1


def test_a_tampered_list_does_not_verify(world, anon):
    compact = fetch(anon)
    header, _, signature = compact.split(".")
    forged = {**unverified_payload(compact), "authorities": []}
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(TrustListRefused):
        verify_trust_list(
            f"{header}.{body}.{signature}",
            registry_jwks(anon),
            country="CN",
            issuer="https://registry.example",
            now=datetime.now(UTC),
        )


def test_cn_trusts_its_own_authority_and_chile_under_the_agreement_not_kazakhstan(world, anon):
    authorities = by_issuer(verified(anon))
    cn, cl = world.cn.authority, world.cl.authority
    assert list(authorities) == [cn.issuer, cl.issuer]  # own first, then foreign by country
    assert world.kz.authority.issuer not in authorities
    for authority in authorities.values():
        assert set(authority) == AUTHORITY_FIELDS
        assert (authority["status"], authority["max_assurance"]) == ("active", "high")
    assert authorities[cn.issuer]["recognized_for"] == []
    agreement = world.cn_recognizes_cl
    assert authorities[cl.issuer]["recognized_for"] == [
        {
            "credential_types": ["merchant-identity"],
            "min_assurance": "low",
            "valid_from": iso(agreement.valid_from),
            "valid_until": None,
            "agreement_id": agreement.id,
        }
    ]
    (key,) = authorities[cl.issuer]["jwks"]["keys"]
    assert {name: key[name] for name in ("kty", "crv", "x", "kid", "alg", "use")} == world.cl.key.public_jwk
    assert key["status"] == "active" and key["not_after"] is None and key["retired_at"] is None
    assert datetime.fromisoformat(key["not_before"]) == world.cl.key.not_before
    assert set(key) >= KEY_REGISTRY_MEMBERS and not PRIVATE_MEMBERS & set(key)


def test_chile_lists_only_its_own_authority(world, anon):
    # No agreement makes CL recognize anyone: domestic trust only.
    assert list(by_issuer(verified(anon, "CL"))) == [world.cl.authority.issuer]


def test_chile_disappears_when_the_agreement_is_suspended(world, anon):
    agreement_services.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert list(by_issuer(verified(anon))) == [world.cn.authority.issuer]


def test_agreements_outside_their_window_and_suspended_authorities_are_not_listed(world, anon):
    agreement_services.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
        valid_from=timezone.now() + timedelta(days=1),
        activate=True,
    )
    authority_suspend(authority=world.cl.authority)
    assert list(by_issuer(verified(anon))) == [world.cn.authority.issuer]
    authority_suspend(authority=world.cn.authority)
    assert verified(anon)["authorities"] == []


def test_a_compromised_key_stays_listed_with_its_status(world, anon):
    # Decision: kept, marked compromised, so that an offline verifier refuses
    # its tokens as key_compromised exactly as the API does (test below).
    key_mark_compromised(key=world.cl.key)
    (key,) = by_issuer(verified(anon))[world.cl.authority.issuer]["jwks"]["keys"]
    assert key["status"] == "compromised"
    assert datetime.fromisoformat(key["compromised_at"]) <= timezone.now()


def test_an_authority_whose_keys_are_all_compromised_is_listed_though_not_recognized(world, anon):
    # Decision (recognition/services/trust_lists.py): the list follows the
    # terms and carries the keys; GET recognition/, the matrix and TRQP call
    # the authority not recognized, as no credential of it can be accepted.
    key_mark_compromised(key=world.cl.key)
    listed = by_issuer(verified(anon))[world.cl.authority.issuer]
    assert [key["status"] for key in listed["jwks"]["keys"]] == ["compromised"]
    assert [scope["agreement_id"] for scope in listed["recognized_for"]] == [world.cn_recognizes_cl.id]
    (cl,) = anon.get("/api/v1/recognition/", {"origin": "CL", "destination": "CN"}).json()["authorities"]
    assert (cl["recognized"], [key["usable"] for key in cl["keys"]]) == (False, [False])
    (answer,) = recognition_at(destination="CN", origin="CL", at=timezone.now())
    assert answer.terms_hold and not answer.recognized


def test_retired_keys_carry_when_they_were_retired(world, anon):
    retired = key_retire(key=world.cn.key)
    (key,) = by_issuer(verified(anon))[world.cn.authority.issuer]["jwks"]["keys"]
    assert key["status"] == "retired"
    assert key["retired_at"] == iso(retired.retired_at)


# Sequence -------------------------------------------------------------------


def test_sequence_grows_only_when_the_content_changes(world, anon):
    first = verified(anon)["sequence"]
    assert verified(anon)["sequence"] == first
    agreement_services.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert verified(anon)["sequence"] == first + 1
    assert verified(anon)["sequence"] == first + 1
    agreement_services.agreement_activate(agreement=world.cn_recognizes_cl)
    assert verified(anon)["sequence"] == first + 2
    # Another country's list has its own sequence, untouched by CN's changes.
    assert verified(anon, "CL")["sequence"] == 1


def test_a_key_state_change_is_a_content_change(world, anon):
    first = verified(anon)["sequence"]
    key_mark_compromised(key=world.cl.key)
    assert verified(anon)["sequence"] == first + 1


# Requests -------------------------------------------------------------------


@pytest.mark.parametrize("country", ["XX", "cn", "CHN", "C", "12", "%20CN"])
def test_an_unknown_country_code_is_a_400_error(world, anon, country):
    response = anon.get(f"/api/v1/trust-lists/{country}/")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == "invalid_request"
    assert "country" in body["detail"]


def test_trust_lists_are_public_whatever_the_authorization_header(world, anon):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Api-Key not.a-key"}, {"HTTP_AUTHORIZATION": "Bearer x"}):
        response = anon.get("/api/v1/trust-lists/CN/", **headers)
        assert response.status_code == 200, headers
    # An Accept header asking for JSON (or anything else) does not turn the
    # answer into a 406: it is what the schema documents, application/jwt.
    for accept in ("application/json", "text/html", "application/jwt", "*/*"):
        response = anon.get("/api/v1/trust-lists/CN/", HTTP_ACCEPT=accept)
        assert (response.status_code, response["Content-Type"]) == (200, "application/jwt"), accept


def test_a_country_with_no_authority_has_an_empty_list(world, anon):
    payload = verified(anon, "FR")
    assert (payload["sub"], payload["authorities"]) == ("FR", [])


def test_only_get_is_allowed(world, anon):
    assert anon.post("/api/v1/trust-lists/CN/", {}, format="json").status_code == 405
    assert anon.delete("/.well-known/jwks.json").status_code == 405


# Registry keys and rotation ---------------------------------------------------


def test_well_known_jwks_publishes_public_members_only(world, anon, registry_key):
    response = anon.get("/.well-known/jwks.json")
    assert response["Content-Type"].startswith("application/json")
    assert "max-age=" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert key == registry_key.public_jwk
    assert set(key) <= {"kty", "crv", "x", "y", "kid", "alg", "use"} and not PRIVATE_MEMBERS & set(key)


def test_rotation_signs_with_the_new_key_and_publishes_the_old_one_until_its_lists_expire(
    world, anon, registry_key, monkeypatch
):
    old_list = fetch(anon)
    out = io.StringIO()
    call_command("rotate_registry_key", stdout=out, stderr=io.StringIO())
    new_kid = out.getvalue().strip()
    assert new_kid and new_kid != registry_key.kid

    new_list = fetch(anon)
    assert header_of(old_list)["kid"] == registry_key.kid
    assert header_of(new_list)["kid"] == new_kid
    jwks = registry_jwks(anon)
    assert [key["kid"] for key in jwks["keys"]] == [new_kid, registry_key.kid]
    now = datetime.now(UTC)
    for compact in (old_list, new_list):
        assert verify_trust_list(compact, jwks, country="CN", issuer="https://registry.example", now=now)

    old = RegistryKey.objects.get(kid=registry_key.kid)
    assert old.publish_until == old.retired_at + timedelta(seconds=TTL)
    assert datetime.fromtimestamp(unverified_payload(old_list)["exp"], tz=UTC) <= old.publish_until

    monkeypatch.setattr(timezone, "now", lambda: old.publish_until - timedelta(seconds=1))
    assert [key["kid"] for key in registry_jwks(anon)["keys"]] == [new_kid, registry_key.kid]
    monkeypatch.setattr(timezone, "now", lambda: old.publish_until)
    assert [key["kid"] for key in registry_jwks(anon)["keys"]] == [new_kid]


def test_two_rotations_keep_both_old_keys_published(world, anon, registry_key):
    second = registry_key_rotate()
    third = registry_key_rotate()
    assert [key["kid"] for key in registry_jwks(anon)["keys"]] == [third.kid, second.kid, registry_key.kid]
    assert header_of(fetch(anon))["kid"] == third.kid


# Deciding offline from the list gives the API's answer --------------------------
#
# Each case changes the world if it needs to, then the list is fetched afresh
# and verified with jwcrypto, and the same token is decided by the API and
# offline. Accepted or rejected always agree; the reason codes agree wherever
# the list carries the information. Where it does not (an issuer absent from
# the list: no agreement, or an agreement suspended), the offline verifier
# refuses the issuer as unknown. Merchant status and revoked credentials are
# not in trust lists at all, so they are left out of this set (see the test
# after it).


def _other_key_token(world, kid: str) -> str:
    other = ed25519.Ed25519PrivateKey.generate()
    return jwt.encode(claims_for(world.cl), other, algorithm="EdDSA", headers={"kid": kid, "typ": TYP})


def _with_min_assurance_high(world) -> str:
    agreement_services.agreement_update_terms(
        agreement=world.cn_recognizes_cl, credential_types=[world.merchant_identity], min_assurance="high"
    )
    return sign(world.cl)


def _issued_in_the_second_before_a_key_starts(world) -> str:
    # The key starts half a second into a second; a credential of that second
    # (iat is whole seconds) predates it. A list rounding bounds to seconds
    # would let an offline verifier accept it.
    starts = (timezone.now() - timedelta(minutes=5)).replace(microsecond=500000)
    private = ed25519.Ed25519PrivateKey.generate()
    key = key_register(authority=world.cl.authority, jwk=public_jwk_of(private), not_before=starts)
    claims = claims_for(world.cl, iat=int(starts.timestamp()), nbf=int(starts.timestamp()))
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid, "typ": TYP})


def _after(change, token_of):
    def case(world) -> str:
        change(world)
        return token_of(world)

    return case


NOW = int(time.time())
OFFLINE_CASES = {
    # name: (make the token, the API's codes, whether the offline codes are the same)
    "accepted_cl_to_cn": (lambda w: sign(w.cl), [], True),
    "domestic_cn": (lambda w: sign(w.cn), [], True),
    "kz_without_agreement": (lambda w: sign(w.kz), ["no_agreement"], False),
    "type_not_recognized": (
        lambda w: sign(w.cl, credential_type="export-licence"),
        ["credential_type_not_recognized"],
        True,
    ),
    "assurance_below_minimum": (_with_min_assurance_high, ["assurance_below_minimum"], True),
    "expired": (lambda w: sign(w.cl, iat=NOW - 7200, nbf=NOW - 7200, exp=NOW - 3600), ["expired"], True),
    "not_yet_valid": (lambda w: sign(w.cl, nbf=NOW + 3600), ["not_yet_valid"], True),
    "compromised_key": (
        _after(lambda w: key_mark_compromised(key=w.cl.key), lambda w: sign(w.cl)),
        ["key_compromised"],
        True,
    ),
    "issued_after_key_retired": (
        _after(lambda w: key_retire(key=w.cl.key, at=timezone.now() - timedelta(hours=1)), lambda w: sign(w.cl)),
        ["key_not_valid_at_issuance"],
        True,
    ),
    "issued_just_before_key_not_before": (
        _issued_in_the_second_before_a_key_starts,
        ["key_not_valid_at_issuance"],
        True,
    ),
    "assurance_exceeds_accreditation": (
        _after(
            lambda w: authority_update(authority=w.cl.authority, name=w.cl.authority.name, max_assurance="low"),
            lambda w: sign(w.cl),
        ),
        ["assurance_exceeds_accreditation"],
        True,
    ),
    "suspended_agreement": (
        _after(lambda w: agreement_services.agreement_suspend(agreement=w.cn_recognizes_cl), lambda w: sign(w.cl)),
        ["agreement_not_in_force"],
        False,
    ),
    "unknown_key": (lambda w: _other_key_token(w, "a-kid-nobody-registered"), ["unknown_key"], True),
    "invalid_signature": (lambda w: _other_key_token(w, w.cl.key.kid), ["invalid_signature"], True),
    "malformed_token": (lambda w: "not.a-token", ["malformed_token"], True),
}


@pytest.mark.parametrize("case", OFFLINE_CASES)
def test_deciding_offline_from_the_trust_list_gives_the_api_answer(world, anon, api, case):
    make_token, api_codes, same_codes = OFFLINE_CASES[case]
    token = make_token(world)
    trust_list = verified(anon)  # fetched after the change, as a verifier refreshing its list would

    online = api.codes(token, "CN")
    offline = decide_offline(trust_list, token, now=datetime.now(UTC))

    assert online == api_codes
    assert (offline == []) is (online == [])
    assert offline == (online if same_codes else ["unknown_issuer"])


def test_what_an_offline_verifier_cannot_see(world, anon, api):
    """Documented limits: a merchant's suspension is not in any trust list,
    and a list held offline keeps what was true when it was signed (until
    its exp); the API sees both at once."""
    trust_list = verified(anon)
    token = sign(world.cl)
    merchant_suspend(merchant=world.cl.merchant)
    assert api.codes(token, "CN") == ["merchant_suspended"]
    assert decide_offline(verified(anon), token, now=datetime.now(UTC)) == []
    merchant_reinstate(merchant=world.cl.merchant)
    agreement_services.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert api.codes(token, "CN") == ["agreement_not_in_force"]
    assert decide_offline(trust_list, token, now=datetime.now(UTC)) == []  # the stale list
    assert decide_offline(verified(anon), token, now=datetime.now(UTC)) == ["unknown_issuer"]


# Schema ----------------------------------------------------------------------


def test_trust_endpoints_are_in_the_schema_and_it_validates(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    trust_list = schema["paths"]["/api/v1/trust-lists/{country}/"]["get"]
    # The media type alone: a JSON schema would have JSON tools parse the JWS.
    assert trust_list["responses"]["200"]["content"] == {"application/jwt": {}}
    assert trust_list["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    jwks = schema["paths"]["/.well-known/jwks.json"]["get"]
    assert "200" in jwks["responses"]
    for operation in (trust_list, jwks):
        assert operation["security"] == [{}]  # public
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert "/api/v1/trust-lists/{country}/" in json.loads(out.getvalue())["paths"]
