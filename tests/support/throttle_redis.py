"""The Redis server of the shared-throttle tests: TEST_REDIS_URL (default
redis://127.0.0.1:6379/15), required to answer, or the test is skipped."""

import os

import pytest
import redis

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis() -> None:
    """Skip the test, saying why, unless the Redis of TEST_REDIS_URL answers
    (fail it instead with REQUIRE_REDIS=1)."""
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        reason = f"needs Redis at {TEST_REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)
