"""Clients and checks of the HTTP API tests (tests/api/): the JSON error
shape, clients holding an API key or a session, and `Api`, the client of
the `api` fixture (tests/api/conftest.py)."""

from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

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
