"""The fixtures of the HTTP API tests: API keys of each role and the `api`
client (tests/support/api.py)."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.services.registry_keys import registry_key_rotate
from tests.support.api import Api, keyed

# The trust lists' lifetime in the tests that sign them (TRUST_LIST_TTL_SECONDS).
TRUST_LIST_TTL = 86400


@pytest.fixture
def registry_key(db, settings, tmp_path):
    """A throwaway registry key in tmp_path (never the shared var/ file)."""
    settings.REGISTRY = {
        **settings.REGISTRY,
        "SIGNING_KEY_PATH": str(tmp_path / "k.pem"),
        "TRUST_LIST_TTL_SECONDS": TRUST_LIST_TTL,
    }
    return registry_key_rotate()


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
