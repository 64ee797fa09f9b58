"""The verification throttle keeps its history as an array; on the
same requests at the same instants it decides as DRF's SimpleRateThrottle
does, and asks the same Retry-After. With THROTTLE_REDIS_URL the history is
one log in Redis that decides alike, and two processes share one budget
(what a key's requests meet through the API: tests/api/test_throttle_shared.py)."""

import json
import os
import subprocess
import sys
import uuid
from array import array
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from accounts.throttling import PerClientThrottle
from tests.support.strategies import PHASES
from tests.support.throttle_redis import TEST_REDIS_URL, require_redis

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def throttle_pair(rate: str, clock: Clock) -> tuple[SimpleRateThrottle, SimpleRateThrottle]:
    class Library(SimpleRateThrottle):
        scope = "library"

        def get_rate(self) -> str:
            return rate

        def get_cache_key(self, request, view) -> str:
            return "test-library"

    class Ours(PerClientThrottle):
        def get_rate(self) -> str:
            return rate

        def get_cache_key(self, request, view) -> str:
            return "test-ours"

    return Library, Ours


@settings(max_examples=300, deadline=None, database=None, phases=PHASES)
@given(
    rate=st.sampled_from(["1/s", "3/s", "5/min", "2/min", "10/h"]),
    steps=st.lists(st.floats(min_value=0, max_value=90, allow_nan=False), min_size=1, max_size=40),
)
def test_same_decisions_and_waits_as_simple_rate_throttle(rate, steps):
    cache.clear()
    clock = Clock()
    library, ours = throttle_pair(rate, clock)
    for step in steps:
        clock.now += step
        one, two = library(), ours()
        one.timer = two.timer = clock
        decided = one.allow_request(None, None), two.allow_request(None, None)
        assert decided[0] == decided[1]
        assert list(one.history) == list(two.history)
        if not decided[0]:
            assert one.wait() == two.wait()
    assert isinstance(cache.get("test-ours"), array)
    cache.clear()


def test_a_history_left_as_a_list_is_read_as_well():
    cache.clear()
    clock = Clock()
    _, ours = throttle_pair("2/min", clock)
    cache.set("test-ours", [0.0, 0.0], 60)
    throttle = ours()
    throttle.timer = clock
    assert throttle.allow_request(None, None) is False
    cache.clear()


# One budget in Redis (the `shared` fixture: tests/conftest.py) ---------------------------------


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
    require_redis()
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
