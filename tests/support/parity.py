"""The API and the verifier package side by side (tests/verifier/): the
package's `Verifier` reads the registry's lists through Django's test
client, fresh for each token, and its answer must be the API's, but for
what README "Verifying offline" says an offline verifier cannot tell.

The exceptions, each a consequence of what the lists carry:
- an authority absent from the destination's trust list (no agreement, none
  in force, suspended or revoked) is `unknown_issuer` offline, whatever the
  API names; both reject;
- `unknown_merchant` is never given offline (the lists hold the merchants
  that are not active, not every merchant): a credential of an unregistered
  merchant, rejected by the API for that reason alone, is accepted offline;
- `invalid_claim` for an unregistered credential type is never given
  offline (no list carries the registered types);
- a status-list entry covers the credential and its merchant: when the
  merchant is revoked, the credential's own revocation or suspension is not
  told apart, nor its suspension when the merchant is suspended;
- the status entry a credential carries is read as the authority signed it:
  a credential naming an unregistered merchant (the API's unknown_merchant)
  may also be refused offline by that entry; and where the API names the
  credential's own status (it looks the credential up by its jti), the
  entry, which also covers the merchant the credential was issued to, may
  name the other one (revoked when that merchant is revoked).
"""

import base64
import json
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.utils import timezone

from merchant_verifier import Verifier
from recognition.snapshots import current_policy

REGISTRY_URL = "http://testserver"
ABSENCE_IS_UNKNOWN_ISSUER = "the authority is absent from the destination's trust list"


class _Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = Message()
        for name, value in headers.items():
            self.headers[name] = value
        self._body = body

    def getcode(self) -> int:
        return self.status

    def read(self, size: int = -1) -> bytes:
        body, self._body = (self._body, b"") if size < 0 else (self._body[:size], self._body[size:])
        return body

    def __enter__(self) -> "_Response":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class TestClientOpener:
    """urllib's `open(request, timeout)` answered by the registry in-process."""

    def __init__(self) -> None:
        self.client = Client()
        self.paths: list[str] = []

    def open(self, request: Any, timeout: float) -> _Response:
        parts = urlsplit(request.full_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.paths.append(path)
        extra = {}
        if request.get_header("If-none-match"):
            extra["HTTP_IF_NONE_MATCH"] = request.get_header("If-none-match")
        response = self.client.get(path, **extra)
        headers = {name: value for name, value in response.items()}
        return _Response(response.status_code, headers, response.content)


def package_answer(token: str, destination: str, origin: str | None) -> dict[str, Any]:
    verifier = Verifier(
        REGISTRY_URL,
        destination,
        opener=TestClientOpener(),
        clock=timezone.now,
        policy=current_policy(),
        max_token_bytes=settings.REGISTRY["MAX_TOKEN_BYTES"],
    )
    return verifier.verify(token, origin=origin).to_dict()


def _unverified_claims(token: str) -> dict[str, Any] | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def _trust_list_issuers(destination: str) -> set[str]:
    jws = Client().get(f"/api/v1/trust-lists/{destination}/").content.decode()
    payload = jws.split(".")[1]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {authority["issuer"] for authority in body["authorities"]}


@dataclass(frozen=True)
class Expected:
    decision: str
    codes: list[str]
    why: str = ""
    may_add: frozenset[str] = frozenset()  # codes the package may give beside `codes`
    one_of: frozenset[str] = frozenset()  # the package must give at least one of these (among may_add)


def expected_offline(api: dict[str, Any], token: str, destination: str) -> Expected:
    """What the package must answer, given the API's answer."""
    reasons = api["reasons"]
    codes = [reason["code"] for reason in reasons]
    claims = _unverified_claims(token)
    issuer = claims.get("iss") if claims else None
    authority_reached = not set(codes) & STOPPING_BEFORE_THE_ISSUER and "unknown_issuer" not in codes
    if authority_reached and isinstance(issuer, str) and issuer not in _trust_list_issuers(destination):
        assert api["decision"] == "rejected", f"the API accepted a credential of {issuer}, absent from the trust list"
        return Expected("rejected", ["unknown_issuer"], ABSENCE_IS_UNKNOWN_ISSUER)
    kept = []
    one_of: frozenset[str] = frozenset()
    for reason in reasons:
        code = reason["code"]
        if code == "unknown_merchant":
            continue
        if code in CREDENTIAL_STATUS and "unknown_merchant" in codes:
            one_of = CREDENTIAL_STATUS  # the carried entry's reading, which also covers the issued-to merchant
            continue
        if code == "invalid_claim" and reason["detail"].endswith("is not a registered type"):
            continue
        if code in ("credential_revoked", "credential_suspended") and "merchant_revoked" in codes:
            continue
        if code == "credential_suspended" and "merchant_suspended" in codes:
            continue
        kept.append(code)
    may_add = CREDENTIAL_STATUS if "unknown_merchant" in codes else frozenset()
    return Expected("accepted" if not kept and not one_of else "rejected", kept, may_add=may_add, one_of=one_of)


CREDENTIAL_STATUS = frozenset({"credential_revoked", "credential_suspended"})


# DESIGN §5: the structural checks that stop before the issuer is looked up.
STOPPING_BEFORE_THE_ISSUER = frozenset(
    {
        "token_too_large",
        "malformed_token",
        "unsupported_algorithm",
        "wrong_token_type",
        "untrusted_header",
        "missing_kid",
    }
)


def assert_parity(api: dict[str, Any], token: str, destination: str, origin: str | None) -> dict[str, Any]:
    """The package's answer to the same request, checked against the API's."""
    package = package_answer(token, destination, origin)
    expected = expected_offline(api, token, destination)
    codes = [reason["code"] for reason in package["reasons"]]
    added = [code for code in codes if code in expected.may_add and code not in expected.codes]
    decision = "accepted" if not expected.codes and not added else "rejected"
    got = (package["decision"], [code for code in codes if code not in added])
    assert got == (decision, expected.codes), (
        f"API {api['decision']} {[r['code'] for r in api['reasons']]}, package {got}, "
        f"expected {expected}; package reasons {package['reasons']}"
    )
    assert not expected.one_of or expected.one_of & set(codes), (
        f"API {[r['code'] for r in api['reasons']]}: the package gives none of {sorted(expected.one_of)}: {codes}"
    )
    if expected.why != ABSENCE_IS_UNKNOWN_ISSUER:
        assert package["origin"] == api["origin"]
        assert package["issuer"] == api["issuer"]
        assert (package["agreement"] or {}).get("id") == (api["agreement"] or {}).get("id")
        if api["credential"] is not None:
            assert package["credential"] == api["credential"]
    return package
