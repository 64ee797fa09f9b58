"""API keys and a small client for the verification API tests."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.services.audit import AuditEntry

VERIFY_URL = "/api/v1/verifications/"
BATCH_URL = "/api/v1/verifications/batch/"


def error_of(response, status: int, code: str) -> str:
    """The response is the JSON error shape of DESIGN §10; returns its detail."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in body["detail"]
    return body["detail"]


def keyed(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def session(user) -> APIClient:  # noqa: ANN001 (a user)
    client = APIClient()
    client.force_login(user)
    return client


AUDIT_TRIGGER = "recognition_verification_append_only"


def entry(**overrides) -> AuditEntry:
    """An audit entry for audit_commit (a malformed token's rejection), with overrides."""
    fields = {
        "client": "test", "destination": "CN", "origin": "", "declared_origin": "", "issuer": "", "kid": "",
        "subject": "", "jti": "", "token_sha256": "0" * 64, "decision": "rejected", "reasons": ["malformed_token"],
        "agreement_id": None, "agreement_version": None,
    }  # fmt: skip
    return AuditEntry(**{**fields, **overrides})


def tamper(sql: str, params: list) -> None:
    """Change audit rows behind the application's back, as someone with the
    table owner's rights could (on PostgreSQL the trigger is lifted for it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check of the rows
            # this test transaction inserted: run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE recognition_verification DISABLE TRIGGER {AUDIT_TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE recognition_verification ENABLE TRIGGER {AUDIT_TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@dataclass
class Api:
    client: APIClient
    key: str | None

    def _headers(self, key: str | None) -> dict[str, str]:
        key = self.key if key is None else key
        return {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}

    def verify(
        self, token: Any, destination: str = "CN", origin: str | None = None, *, key: str | None = None, **extra
    ):
        body = {"token": token, "destination": destination, **extra}
        if origin is not None:
            body["origin"] = origin
        return self.client.post(VERIFY_URL, body, format="json", **self._headers(key))

    def post(self, url: str, body: Any, *, key: str | None = None, content_type: str = "application/json"):
        data = body if isinstance(body, str | bytes) else __import__("json").dumps(body)
        return self.client.generic("POST", url, data, content_type=content_type, **self._headers(key))

    def codes(self, token: Any, destination: str = "CN", origin: str | None = None) -> list[str]:
        response = self.verify(token, destination, origin)
        assert response.status_code == 200, response.content
        return [reason["code"] for reason in response.json()["reasons"]]


@pytest.fixture
def platform_key(world) -> str:
    return api_key_create(name="shop-platform", role="platform")[1]


@pytest.fixture
def regulator_key(world) -> str:
    return api_key_create(name="market-regulator", role="regulator")[1]


@pytest.fixture
def regulator(regulator_key) -> APIClient:
    return keyed(regulator_key)


@pytest.fixture
def fresh_throttle_counters() -> Iterator[None]:
    """No request counted yet against any key (the throttle's cache lives as
    long as the process): use with pytest.mark.usefixtures."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(platform_key) -> Api:
    return Api(client=APIClient(), key=platform_key)
