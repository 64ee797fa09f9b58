"""GET /api/v1/status-lists/<n>/ and GET /api/v1/merchant-status/<CC>/
(spec: draft-ietf-oauth-status-list-20 and the merchant-status list):
public, signed with the key of /.well-known/jwks.json, cached safely, and
answering `?time=` from history."""

import base64
import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from identity.models import IssuedCredential
from identity.services.credentials import credential_issue, credential_reinstate, credential_revoke, credential_suspend
from identity.services.merchants import merchant_reinstate, merchant_revoke, merchant_suspend
from merchant_verifier.status_list import INVALID, SUSPENDED, VALID, StatusList
from recognition.services.registry_keys import registry_key_rotate
from tests.support.api import error_of

TTL, LIFETIME = 120, 3600


@pytest.fixture
def anon(db, settings, tmp_path) -> APIClient:
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    settings.STATUS_LIST_SIZE = 4096
    settings.STATUS_LIST_TTL_SECONDS = TTL
    settings.STATUS_LIST_LIFETIME_SECONDS = LIFETIME
    registry_key_rotate()
    return APIClient()


def issue(world):  # noqa: ANN001, ANN201
    return credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
    )


def verified(anon: APIClient, response, typ: str) -> dict:
    """The payload, after checking the header and the signature with the
    registry's published key (selected by kid)."""
    token = response.content.decode("ascii")
    header = jwt.get_unverified_header(token)
    assert header["typ"] == typ
    jwks = anon.get("/.well-known/jwks.json").json()
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
    key = jwt.PyJWK(jwk)
    return jwt.decode(token, key.key, algorithms=[header["alg"]], options={"verify_exp": False, "verify_iat": False})


def status_list_of(anon: APIClient, uri: str, **query) -> tuple[dict, StatusList]:  # noqa: ANN003
    response = anon.get(uri.removeprefix("https://registry.example"), query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/statuslist+jwt"
    payload = verified(anon, response, "statuslist+jwt")
    return payload, StatusList.from_claim(payload["status_list"])


def entry(anon: APIClient, issued, **query) -> int:  # noqa: ANN001, ANN003
    claim = jwt.decode(issued.token, options={"verify_signature": False})["status"]["status_list"]
    return status_list_of(anon, claim["uri"], **query)[1].status(claim["idx"])


def test_the_credential_claim_names_its_list_and_index(world, anon):
    issued = issue(world)
    claim = jwt.decode(issued.token, options={"verify_signature": False})["status"]
    credential = IssuedCredential.objects.get(jti=issued.credential.jti)
    assert claim == {
        "status_list": {
            "idx": credential.status_index,
            "uri": f"https://registry.example/api/v1/status-lists/{credential.status_list.number}/",
        }
    }


def test_the_list_is_signed_and_carries_the_spec_claims(world, anon):
    issued = issue(world)
    uri = jwt.decode(issued.token, options={"verify_signature": False})["status"]["status_list"]["uri"]
    before = int(time.time())
    payload, status_list = status_list_of(anon, uri)
    assert set(payload) == {"iss", "sub", "iat", "exp", "ttl", "status_list"}
    assert payload["iss"] == "https://registry.example"
    assert payload["sub"] == uri
    assert before - 1 <= payload["iat"] <= time.time()
    assert payload["exp"] == payload["iat"] + LIFETIME
    assert payload["ttl"] == TTL
    assert payload["status_list"]["bits"] == 2
    assert "=" not in payload["status_list"]["lst"]
    assert status_list.size == 4096


def test_each_change_is_in_the_very_next_list(world, anon):
    issued, other = issue(world), issue(world)
    assert entry(anon, issued) == VALID
    credential_suspend(credential=issued.credential)
    assert (entry(anon, issued), entry(anon, other)) == (SUSPENDED, VALID)
    credential_reinstate(credential=issued.credential)
    assert entry(anon, issued) == VALID
    credential_revoke(credential=issued.credential)
    assert (entry(anon, issued), entry(anon, other)) == (INVALID, VALID)


def test_a_merchants_status_covers_its_credentials_in_the_list(world, anon):
    issued, other = issue(world), issue(world)
    merchant_suspend(merchant=world.cl.merchant)
    assert (entry(anon, issued), entry(anon, other)) == (SUSPENDED, SUSPENDED)
    merchant_reinstate(merchant=world.cl.merchant)
    assert (entry(anon, issued), entry(anon, other)) == (VALID, VALID)
    merchant_revoke(merchant=world.cl.merchant)
    assert (entry(anon, issued), entry(anon, other)) == (INVALID, INVALID)


def test_an_unchanged_list_keeps_its_bytes_etag_and_gets_304(world, anon):
    issued = issue(world)
    url = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    first, second = anon.get(url), anon.get(url)
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert first["Cache-Control"].startswith("public, max-age=")
    assert TTL / 2 <= int(first["Cache-Control"].split("=")[1]) <= TTL
    not_modified = anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    credential_revoke(credential=issued.credential)
    changed = anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_list_is_signed_again_after_half_its_ttl(world, anon, monkeypatch):
    issued = issue(world)
    url = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    first = verified(anon, anon.get(url), "statuslist+jwt")
    later = time.time() + TTL / 2 + 1
    monkeypatch.setattr(timezone, "now", lambda: datetime.fromtimestamp(later, tz=UTC))
    second = verified(anon, anon.get(url), "statuslist+jwt")
    assert second["iat"] >= first["iat"] + TTL / 2
    assert second["status_list"] == first["status_list"]


def test_time_answers_the_list_before_and_after_a_revocation(world, anon):
    issued = issue(world)
    time.sleep(0.01)
    before = timezone.now()
    credential_revoke(credential=issued.credential)
    after = timezone.now()
    assert entry(anon, issued, time=before.isoformat().replace("+00:00", "Z")) == VALID
    assert entry(anon, issued, time=after.isoformat().replace("+00:00", "Z")) == INVALID
    uri = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    payload, _ = status_list_of(anon, uri, time=before.isoformat().replace("+00:00", "Z"))
    assert payload["iat"] == int(before.timestamp())


def test_unknown_list_and_a_time_before_the_list_are_404(world, anon):
    issued = issue(world)
    error_of(anon.get("/api/v1/status-lists/99/"), 404, "not_found")
    url = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    error_of(anon.get(url, {"time": "2001-01-01T00:00:00Z"}), 404, "not_found")


def test_a_future_time_is_answered_with_the_list_of_now(world, anon):
    issued = issue(world)
    credential_revoke(credential=issued.credential)
    uri = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    now = int(timezone.now().timestamp())
    payload, status_list = status_list_of(anon, uri, time="2999-01-01T00:00:00Z")
    assert now - 1 <= payload["iat"] <= now + 5
    assert status_list.status(issued.credential.status_index) == INVALID
    statuses = merchant_status(anon, "CL", time="2999-01-01T00:00:00Z")
    assert now - 1 <= statuses["iat"] <= now + 5


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", ""])
def test_a_bad_time_is_400(world, anon, bad):
    issued = issue(world)
    url = f"/api/v1/status-lists/{issued.credential.status_list.number}/"
    assert anon.get(url, {"time": bad}).status_code == 400
    assert anon.get("/api/v1/merchant-status/CL/", {"time": bad}).status_code == 400


def test_an_unknown_parameter_is_400(world, anon):
    assert anon.get("/api/v1/merchant-status/CL/", {"at": "2026-01-01T00:00:00Z"}).status_code == 400


# Merchant-status lists -----------------------------------------------------


def merchant_status(anon: APIClient, country: str = "CL", **query) -> dict:  # noqa: ANN003
    response = anon.get(f"/api/v1/merchant-status/{country}/", query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/jwt"
    return verified(anon, response, "merchant-status+jwt")


def test_merchant_status_lists_the_merchants_not_active(world, anon):
    payload = merchant_status(anon)
    assert set(payload) == {"iss", "sub", "iat", "exp", "ttl", "merchants", "credentials"}
    assert (payload["sub"], payload["ttl"], payload["exp"] - payload["iat"]) == ("CL", TTL, LIFETIME)
    assert payload["merchants"] == payload["credentials"] == []
    merchant_suspend(merchant=world.cl.merchant)
    merchant_revoke(merchant=world.kz.merchant)
    assert merchant_status(anon)["merchants"] == [
        {"issuer": world.cl.authority.issuer, "registration_number": "CL-0001", "status": "suspended"}
    ]
    assert merchant_status(anon, "KZ")["merchants"][0]["status"] == "revoked"
    assert merchant_status(anon, "CN")["merchants"] == []


def test_merchant_status_lists_only_credentials_without_an_index(world, anon):
    listed, unlisted = issue(world), issue(world)
    # A credential issued before status lists existed has no index.
    IssuedCredential.objects.filter(pk=unlisted.credential.pk).update(status_list=None, status_index=None)
    credential_revoke(credential=listed.credential)
    credential_suspend(credential=IssuedCredential.objects.get(pk=unlisted.credential.pk))
    assert merchant_status(anon)["credentials"] == [
        {"issuer": world.cl.authority.issuer, "jti": unlisted.credential.jti, "status": "suspended"}
    ]


def test_merchant_status_at_a_time_and_its_caching(world, anon):
    first = anon.get("/api/v1/merchant-status/CL/")
    assert anon.get("/api/v1/merchant-status/CL/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    before = timezone.now()
    merchant_suspend(merchant=world.cl.merchant)
    assert anon.get("/api/v1/merchant-status/CL/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    then = merchant_status(anon, time=before.isoformat().replace("+00:00", "Z"))
    assert then["merchants"] == []
    assert then["iat"] == int(before.timestamp())


def test_merchant_status_refuses_an_unknown_country(world, anon):
    error_of(anon.get("/api/v1/merchant-status/XX/"), 400, "invalid_request")
    assert anon.get("/api/v1/merchant-status/cl/").status_code == 400


def test_status_documents_need_no_key_and_ignore_one(world, anon):
    response = anon.get("/api/v1/merchant-status/CL/", HTTP_AUTHORIZATION="Api-Key nonsense")
    assert response.status_code == 200


# The decision ----------------------------------------------------------------


def test_the_api_refuses_a_suspended_credential_until_reinstated(world, anon, api):
    issued = issue(world)
    credential_suspend(credential=issued.credential, reason="under review")
    response = api.verify(issued.token)
    assert response.json()["reasons"] == [
        {"code": "credential_suspended", "detail": "the registry has suspended this credential"}
    ]
    credential_reinstate(credential=IssuedCredential.objects.get(pk=issued.credential.pk))
    assert api.codes(issued.token) == []


def test_payload_is_base64url_json(world, anon):
    token = anon.get("/api/v1/merchant-status/CL/").content.decode()
    body = token.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["sub"] == "CL"
