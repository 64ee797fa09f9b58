import pytest
from django.db import connection

from tests.actors import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def postgres_only(db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")
