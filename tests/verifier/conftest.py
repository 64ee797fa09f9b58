"""The decision table and the hostile-token tests of tests/api/, run again
with an `api` whose every verification also goes through the verifier
package, which must answer the same (tests/support/parity.py)."""

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from recognition.services.registry_keys import load_signing_key
from tests.api.conftest import fresh_throttle_counters, platform_key, regulator, regulator_key  # noqa: F401
from tests.support.api import VERIFY_URL, Api
from tests.support.parity import assert_parity


@pytest.fixture(scope="session", autouse=True)
def registry_signing_key() -> None:
    """The registry key of the test run (REGISTRY_SIGNING_KEY, under var/),
    made once as in development: the lists the package reads are signed
    with it, whatever a test's settings."""
    load_signing_key(create=True)


@dataclass
class ParityApi(Api):
    compared: list[Any] = field(default_factory=list)

    def verify(self, token: Any, destination: str = "CN", origin: str | None = None, *, key=None, **extra):
        response = super().verify(token, destination, origin, key=key, **extra)
        if response.status_code == 200 and isinstance(token, str) and not extra:
            self.compared.append(assert_parity(response.json(), token, destination, origin))
        return response

    def post(self, url: str, body: Any, *, key=None, content_type: str = "application/json"):
        response = super().post(url, body, key=key, content_type=content_type)
        if url == VERIFY_URL and response.status_code == 200:
            request = json.loads(body) if isinstance(body, str | bytes) else body
            if isinstance(request.get("token"), str) and set(request) <= {"token", "destination", "origin"}:
                destination, origin = request.get("destination", "CN"), request.get("origin")
                self.compared.append(assert_parity(response.json(), request["token"], destination, origin))
        return response


@pytest.fixture
def api(platform_key) -> ParityApi:  # noqa: F811
    parity = ParityApi(client=APIClient(), key=platform_key)
    yield parity
    # Every test asks for at least one verification: none may escape the comparison.
    assert parity.compared, "no verification went through both the API and the package"
