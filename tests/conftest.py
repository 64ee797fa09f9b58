import pytest
from django.db import connection
from django.utils import timezone

from tests.actors import World, build_world
from tests.clock import Clock


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def postgres_only(db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")


@pytest.fixture
def clock(world, monkeypatch) -> Clock:
    """A fake clock at T0 (tests/clock.py), after the world was built."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock
