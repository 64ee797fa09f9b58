"""Shared by the hostile-token tests: post a token, check the rejection the
caller sees and the one audit row it leaves (DESIGN §5, §6)."""

import hashlib
import json
from typing import Any

from recognition.models import Verification
from tests.support.actors import Actor
from tests.support.audit import audit_of
from tests.support.tokens import TYP

VERIFY_URL = "/api/v1/verifications/"
Api = Any  # tests.support.api.Api, the `api` fixture


def header_for(actor: Actor, **members: Any) -> dict[str, Any]:
    """The header of a well-formed credential of `actor`, with overrides."""
    return {"alg": "EdDSA", "typ": TYP, "kid": actor.key.kid, **members}


def post_token(api: Api, token: str, destination: str = "CN") -> dict[str, Any]:
    """POST the token as ASCII JSON text, so that any str (lone surrogates
    included) reaches the server exactly; the answer must be a 200."""
    response = api.post(VERIFY_URL, json.dumps({"token": token, "destination": destination}))
    assert response.status_code == 200, response.content
    return response.json()


def assert_rejected(api: Api, token: str, codes: list[str], *, verified: bool = False) -> dict[str, Any]:
    """A 200 rejection with exactly `codes`, nothing unauthenticated echoed
    as a fact, and exactly one audit row saying the same."""
    before = Verification.objects.count()
    body = post_token(api, token)
    assert [reason["code"] for reason in body["reasons"]] == codes, body["reasons"]
    assert (body["decision"], body["accepted"]) == ("rejected", False)
    facts = (body["issuer"], body["merchant"], body["credential"])
    if verified:
        assert None not in facts, "a verified token's issuer, merchant and credential are reported"
    else:
        assert facts == (None, None, None), "claims of an unverified token must not be echoed"
        assert body["origin"] is None
    assert Verification.objects.count() == before + 1
    record = Verification.objects.get(id=body["id"])
    assert (record.decision, record.reasons) == ("rejected", codes)
    assert record.token_sha256 == hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    assert body["audit"] == audit_of(record, body["audit"])
    return body


def assert_accepted(api: Api, token: str) -> dict[str, Any]:
    """The control of a hostile case: the untouched token is accepted."""
    body = post_token(api, token)
    assert (body["decision"], body["accepted"], body["reasons"]) == ("accepted", True, []), body["reasons"]
    return body
