"""With THROTTLE_REDIS_URL a key has one budget across every worker process
(accounts/throttling.py); without it, or while Redis is unreachable,
each process counts in its own memory.

These tests need the Redis server of TEST_REDIS_URL (default
redis://127.0.0.1:6379/15) and are skipped, saying so, where it is absent;
with REQUIRE_REDIS=1 (set by .ci/run once it has Redis running) a missing
server fails them instead."""

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accounts import throttling
from recognition.models import Verification
from tests.accounts.test_throttling import Clock, throttle_pair
from tests.api.test_token_property import PHASES
from tests.support.api import BATCH_URL, error_of
from tests.support.tokens import sign

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _require_redis() -> None:
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        reason = f"needs Redis at {TEST_REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def shared(settings):
    """The budgets in Redis, under a prefix of this test's own; removed after."""
    _require_redis()
    prefix = f"test-throttle:{uuid.uuid4().hex}:"
    settings.THROTTLE_REDIS_URL = TEST_REDIS_URL
    settings.THROTTLE_REDIS_PREFIX = prefix
    cache.clear()
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    cache.clear()


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


@settings(max_examples=150, deadline=None, database=None, phases=PHASES)
@given(
    rate=st.sampled_from(["1/s", "3/s", "5/min", "2/min", "10/h"]),
    steps=st.lists(st.floats(min_value=0, max_value=90, allow_nan=False), min_size=1, max_size=30),
)
@example(rate="1/s", steps=[0.0, 1.0])  # an instant exactly `duration` old has left the log
@example(rate="2/min", steps=[0.0, 0.0, 59.5, 0.5])
def test_the_shared_log_decides_and_waits_as_simple_rate_throttle(shared_prefix, rate, steps):
    cache.clear()
    clock = Clock()
    clock.now = 1_764_000_000.123456  # an instant with every digit significant
    library, ours = throttle_pair(rate, clock)
    key = f"{shared_prefix}{uuid.uuid4().hex}"

    class Shared(ours):
        def get_cache_key(self, request, view) -> str:
            return key

    for step in steps:
        clock.now += step
        one, two = library(), Shared()
        one.timer = two.timer = clock
        decided = one.allow_request(None, None), two.allow_request(None, None)
        assert two.shared_log is not None  # decided in Redis, not in memory
        assert decided[0] == decided[1]
        if not decided[0]:
            assert one.wait() == pytest.approx(two.wait(), abs=1e-9)


@pytest.fixture(scope="module")
def shared_prefix():
    """`shared` for the property test (hypothesis runs one test many times)."""
    _require_redis()
    from django.conf import settings as django_settings

    prefix = f"test-throttle:{uuid.uuid4().hex}:"
    saved = django_settings.THROTTLE_REDIS_URL, django_settings.THROTTLE_REDIS_PREFIX
    django_settings.THROTTLE_REDIS_URL, django_settings.THROTTLE_REDIS_PREFIX = TEST_REDIS_URL, ""
    yield prefix
    django_settings.THROTTLE_REDIS_URL, django_settings.THROTTLE_REDIS_PREFIX = saved
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for name in client.scan_iter(match=f"{prefix}*"):
        client.delete(name)


WORKER = """
import json, sys
import django
django.setup()
from accounts.throttling import PerClientThrottle

class Throttle(PerClientThrottle):
    def get_rate(self):
        return "5/min"
    def get_cache_key(self, request, view):
        return sys.argv[1]

print(json.dumps([Throttle().allow_request(None, None) for _ in range(5)]))
"""


@pytest.mark.slow
def test_two_processes_share_one_budget(shared):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "THROTTLE_REDIS_URL": TEST_REDIS_URL,
        "THROTTLE_REDIS_PREFIX": shared,
    }
    env.pop("DATABASE_URL", None)  # the throttle reads no database
    workers = [
        subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", WORKER, "key:1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    decisions = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(map(sum, decisions)) == 5  # ten requests, one budget of five
