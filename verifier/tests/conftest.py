"""Fixtures of the verifier's tests: a clock, the registry double and its
HTTP server, and verifiers pointed at it (registry_double.py)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from registry_double import Clock, Registry, Server

from merchant_verifier import Verifier


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> Registry:
    return Registry(clock)


@pytest.fixture
def server(registry: Registry) -> Iterator[Server]:
    served = Server(registry)
    yield served
    served.stop()


@pytest.fixture
def make_verifier(server: Server, clock: Clock) -> Callable[..., Verifier]:
    def make(**options: Any) -> Verifier:
        return Verifier(server.url, options.pop("destination", "CN"), clock=clock, timeout=5, **options)

    return make


@pytest.fixture
def verifier(make_verifier: Callable[..., Verifier]) -> Verifier:
    return make_verifier()
