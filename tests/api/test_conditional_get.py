"""Conditional GET of the public signed documents (core/http_cache.py): a
country's trust list, the registry's JWKS and an authority's JWKS answer 304
to the ETag of the copy a reader holds, serve the same bytes until something
changes, and are safe behind a shared cache (the same answer for everyone,
`Vary` naming only what the answer depends on, no cookie).

Every request here goes through the whole middleware stack of the settings.
"""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from identity.services.authorities import authority_suspend
from identity.services.keys import key_mark_compromised
from recognition.services import agreements as agreement_services
from recognition.services.registry_keys import registry_key_rotate
from recognition.services.trust_lists import MAX_CACHE_SECONDS
from tests.api.conftest import TRUST_LIST_TTL as TTL

HALF = timedelta(seconds=TTL // 2)
TRUST_LIST = "/api/v1/trust-lists/CN/"
REGISTRY_JWKS = "/.well-known/jwks.json"


@pytest.fixture
def anon(registry_key) -> APIClient:
    return APIClient()


class MovableClock:
    """timezone.now, moved by the test (the services and the views read it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)
        monkeypatch.setattr(timezone, "now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch) -> MovableClock:
    return MovableClock(monkeypatch)


def payload_of(compact: bytes) -> dict:
    segment = compact.split(b".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))


def issuers(compact: bytes) -> list[str]:
    return [authority["issuer"] for authority in payload_of(compact)["authorities"]]


def max_age(response) -> int:
    (directive,) = [part.strip() for part in response["Cache-Control"].split(",") if "max-age=" in part]
    return int(directive.removeprefix("max-age="))


def authority_jwks(world) -> str:
    return f"/api/v1/authorities/{world.cl.authority.id}/jwks.json"


# 200, then 304 ------------------------------------------------------------------


def test_a_trust_list_answers_304_with_no_body_to_its_own_etag(world, anon):
    first = anon.get(TRUST_LIST)
    assert first.status_code == 200 and first["ETag"].startswith('"')

    again = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"].replace(str(max_age(first)), str(max_age(again)))
    # A list of ETags, or the weak form of ours, matches too (RFC 9110 §13.1.2).
    assert anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=f'"other", W/{first["ETag"]}').status_code == 304
    assert anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH='"not-this-one"').status_code == 200


def test_the_same_bytes_are_served_while_nothing_changes(world, anon, clock):
    first = anon.get(TRUST_LIST)
    clock.now += timedelta(minutes=10)
    later = anon.get(TRUST_LIST)
    assert later.content == first.content and later["ETag"] == first["ETag"]
    assert payload_of(later.content)["iat"] == payload_of(first.content)["iat"]


@pytest.mark.parametrize("path", [REGISTRY_JWKS, "authority"])
def test_the_jwks_answer_304_to_their_etag(world, anon, path):
    path = authority_jwks(world) if path == "authority" else path
    first = anon.get(path)
    assert first.status_code == 200 and first.json()["keys"]
    assert anon.get(path).content == first.content  # the same bytes each time
    again = anon.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])


def test_a_key_change_gives_an_authority_jwks_a_new_etag(world, anon):
    first = anon.get(authority_jwks(world))
    key_mark_compromised(key=world.cl.key)
    changed = anon.get(authority_jwks(world), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert [key["status"] for key in changed.json()["keys"]] == ["compromised"]


def test_a_rotation_gives_the_registry_jwks_and_the_lists_a_new_etag(world, anon):
    jwks, trust_list = anon.get(REGISTRY_JWKS), anon.get(TRUST_LIST)
    new = registry_key_rotate()
    jwks_after = anon.get(REGISTRY_JWKS, HTTP_IF_NONE_MATCH=jwks["ETag"])
    assert jwks_after.status_code == 200 and jwks_after.json()["keys"][0]["kid"] == new.kid
    list_after = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=trust_list["ETag"])
    assert list_after.status_code == 200
    header = json.loads(base64.urlsafe_b64decode(list_after.content.split(b".")[0] + b"=="))
    assert header["kid"] == new.kid
    # The content did not change: the same sequence, signed again.
    assert payload_of(list_after.content)["sequence"] == payload_of(trust_list.content)["sequence"]


# What makes a new list ------------------------------------------------------------------


def test_a_suspension_is_in_the_very_next_list_with_a_new_etag(world, anon):
    first = anon.get(TRUST_LIST)
    assert world.cl.authority.issuer in issuers(first.content)

    authority_suspend(authority=world.cl.authority)
    after = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    assert issuers(after.content) == [world.cn.authority.issuer]
    assert payload_of(after.content)["sequence"] == payload_of(first.content)["sequence"] + 1
    assert anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_list_is_signed_again_once_half_its_lifetime_has_passed(world, anon, clock):
    first = anon.get(TRUST_LIST)
    signed = payload_of(first.content)
    assert signed["iat"] == int(clock.now.timestamp())

    clock.now += HALF - timedelta(seconds=1)
    held = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert held.status_code == 304
    assert max_age(held) == 1  # never kept by a cache past the instant it is signed again

    clock.now += timedelta(seconds=1)
    renewed = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert renewed.status_code == 200 and renewed["ETag"] != first["ETag"]
    payload = payload_of(renewed.content)
    assert payload["iat"] == int(clock.now.timestamp()) and payload["exp"] == payload["iat"] + TTL
    assert payload["sequence"] == signed["sequence"]  # the content is the same
    assert payload["authorities"] == signed["authorities"]


def test_an_agreement_window_starting_changes_the_list_with_no_write(world, anon, clock):
    starts = clock.now + timedelta(minutes=2, milliseconds=500)
    agreement_services.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
        valid_from=starts,
        activate=True,
    )
    first = anon.get(TRUST_LIST)
    assert world.kz.authority.issuer not in issuers(first.content)
    assert max_age(first) == 120  # not kept past the instant the window opens

    clock.now = starts.replace(microsecond=0)  # the list's instants are whole seconds: not yet in force
    assert anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    clock.now += timedelta(seconds=1)
    opened = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert opened.status_code == 200
    assert world.kz.authority.issuer in issuers(opened.content)
    assert payload_of(opened.content)["sequence"] == payload_of(first.content)["sequence"] + 1


def test_max_age_is_at_most_five_minutes_and_the_remaining_lifetime(world, anon, settings):
    assert max_age(anon.get(TRUST_LIST)) == MAX_CACHE_SECONDS == 300
    settings.REGISTRY = {**settings.REGISTRY, "TRUST_LIST_TTL_SECONDS": 60}
    short = anon.get("/api/v1/trust-lists/CL/")
    payload = payload_of(short.content)
    assert payload["exp"] - payload["iat"] == 60
    assert 0 < max_age(short) <= 30  # signed again after half of its 60 s


# The 304 path is cheap ----------------------------------------------------------------


def test_a_304_costs_one_small_query_and_no_signature(world, anon, monkeypatch):
    etag = anon.get(TRUST_LIST)["ETag"]
    import jwt

    def no_signing(*args, **kwargs):
        raise AssertionError("a list was signed")

    monkeypatch.setattr(jwt, "encode", no_signing)
    with CaptureQueriesContext(connection) as queries:
        response = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert [query["sql"] for query in queries] == ["SELECT stamp FROM recognition_registry_stamp WHERE id = 1"]


# Safe behind a shared cache ----------------------------------------------------------------

PUBLIC_DOCUMENTS = [TRUST_LIST, REGISTRY_JWKS, "authority"]


def _callers(world, client_of) -> dict[str, APIClient]:
    """Everyone who may ask: nobody, a platform's key, a wrong key, an
    administrator's session (with its CSRF cookie)."""
    from accounts.services import api_key_create

    keyed = client_of()
    keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(name='shop', role='platform')[1]}")
    session = client_of(enforce_csrf_checks=True)
    session.force_login(world.root)
    session.cookies["csrftoken"] = "x" * 32
    return {"anonymous": client_of(), "platform key": keyed, "session": session}


@pytest.mark.parametrize("path", PUBLIC_DOCUMENTS)
def test_the_answer_is_the_same_for_everyone_and_sets_no_cookie(world, anon, path):
    path = authority_jwks(world) if path == "authority" else path
    callers = _callers(world, APIClient)
    answers = {name: client.get(path) for name, client in callers.items()}
    assert len({answer.content for answer in answers.values()}) == 1
    (etag,) = {answer["ETag"] for answer in answers.values()}
    for name, client in callers.items():
        not_modified = client.get(path, HTTP_IF_NONE_MATCH=etag)
        assert (answers[name].status_code, not_modified.status_code) == (200, 304), name
        for response in (answers[name], not_modified):
            assert response.cookies == {} and not response.has_header("Set-Cookie"), name
            assert response["Vary"] == "Accept-Encoding", name
            assert response["Cache-Control"].startswith("public, max-age="), name
            assert max_age(response) <= MAX_CACHE_SECONDS, name


def test_the_304_carries_the_headers_of_the_200(world, anon):
    first = anon.get(TRUST_LIST)
    again = anon.get(TRUST_LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    for name in ("ETag", "Vary", "X-Content-Type-Options", "Content-Security-Policy"):
        assert again[name] == first[name], name
    assert "Content-Type" not in again or again.content == b""
