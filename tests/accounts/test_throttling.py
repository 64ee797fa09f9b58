"""The verification throttle keeps its history as an array; on the
same requests at the same instants it decides as DRF's SimpleRateThrottle
does, and asks the same Retry-After."""

from array import array

from django.core.cache import cache
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from accounts.throttling import PerClientThrottle
from tests.api.test_token_property import PHASES


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
