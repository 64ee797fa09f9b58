"""With THROTTLE_REDIS_URL a key has one budget across every worker process
(accounts/throttling.py); without it, or while Redis is unreachable,
each process counts in its own memory: through the API. (The shared log
against DRF's throttle, and two processes sharing one budget:
tests/accounts/test_throttling.py.)

These tests need the Redis server of TEST_REDIS_URL (default
redis://127.0.0.1:6379/15) and are skipped, saying so, where it is absent;
with REQUIRE_REDIS=1 (set by .ci/run once it has Redis running) a missing
server fails them instead (the `shared` fixture, tests/conftest.py)."""

import logging

from django.core.cache import cache

from accounts import throttling
from recognition.models import Verification
from tests.support.api import BATCH_URL, error_of
from tests.support.tokens import sign

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def another_worker() -> None:
    """What a request meets in another process: none of this one's memory."""
    cache.clear()


def test_a_key_has_one_budget_across_workers(world, api, shared, settings):
    settings.API_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert api.verify(sign(world.cl), "CN", "CL").status_code == 200
        another_worker()
    response = api.verify(sign(world.cl), "CN", "CL")
    error_of(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert Verification.objects.count() == 3  # the throttled request decided nothing
    another_worker()
    error_of(api.post(BATCH_URL, {"items": [{"token": sign(world.cl), "destination": "CN"}]}), 429, "throttled")


def test_without_redis_each_worker_counts_alone(world, api, settings):
    """The documented default: memory per process."""
    settings.THROTTLE_REDIS_URL = ""
    settings.API_THROTTLE_RATE = "1/min"
    assert api.verify(sign(world.cl), "CN").status_code == 200
    assert api.verify(sign(world.cl), "CN").status_code == 429
    another_worker()
    assert api.verify(sign(world.cl), "CN").status_code == 200


def test_unreachable_redis_falls_back_to_the_workers_memory_and_says_so(world, api, settings, caplog):
    settings.THROTTLE_REDIS_URL = UNREACHABLE
    settings.API_THROTTLE_RATE = "2/min"
    throttling._last_warning[0] = float("-inf")
    cache.clear()
    with caplog.at_level(logging.WARNING, logger="accounts.throttling"):
        statuses = [api.verify(sign(world.cl), "CN").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # still throttled, in this process
    warnings = [record.getMessage() for record in caplog.records if record.name == "accounts.throttling"]
    assert warnings == ["throttle: Redis unreachable (ConnectionError); counting in this process's memory"]
    cache.clear()
