"""Fixtures of the in-process WSGI tests: Django's own WSGI handler, as
gunicorn runs it, called by schemathesis through werkzeug's test client,
with the repository's schemathesis.toml (what `schemathesis run` reads from
the repository root), wherever pytest runs from."""

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.config import SchemathesisConfig

from accounts.services import api_key_create
from recognition.services.registry_keys import registry_key_rotate

# config/wsgi.py adds only a start-up check of the production signing key;
# the tests use a throwaway key instead (registry_key below).
APPLICATION = get_wsgi_application()
CONFIG_FILE = Path(__file__).resolve().parents[2] / "schemathesis.toml"
SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", APPLICATION, config=SchemathesisConfig.from_path(CONFIG_FILE)
)


@pytest.fixture
def wsgi_in_test_transaction():
    """What Django's test client does for its own requests: the WSGI
    handler's request signals would otherwise close the connection that
    holds the test's transaction (and with it the test data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def registry_key(db, settings, tmp_path) -> None:
    """A throwaway registry key for the trust lists (never the shared var/ file)."""
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "registry-key.pem")}
    registry_key_rotate()


@pytest.fixture
def keys(world, registry_key, wsgi_in_test_transaction) -> dict[str, str]:
    """The shared actors (tests/support/actors.py) and one API key of each role."""
    return {
        "platform": api_key_create(name="fuzz-platform", role="platform")[1],
        "regulator": api_key_create(name="fuzz-regulator", role="regulator")[1],
    }
