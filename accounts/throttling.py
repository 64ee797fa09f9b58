"""One request budget per API key (or staff user), API_THROTTLE_RATE (DESIGN
§10: 429 with Retry-After).

The decision is DRF's SimpleRateThrottle's: a key's log holds the instants of
its requests let through in the last `duration` seconds; a request is let
through while the log holds fewer than `num_requests`. Where the log lives:

- THROTTLE_REDIS_URL set: in Redis, one sorted set a key, read and written by
  one Lua script (atomic, one round trip), so every worker process of every
  host shares the budget;
- unset, or Redis unreachable: in the process's memory (Django's local-memory
  cache), so N worker processes give a key N budgets. A worker that cannot
  reach Redis falls back to its memory, logs it (at most once a minute) and
  tries Redis again at the next request: throttling protects capacity, and
  an outage of its store must not become an outage of the verification API.
"""

import itertools
import logging
import math
import os
import time
from array import array
from typing import Any

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.permissions import caller_ident

logger = logging.getLogger(__name__)

# KEYS[1] the log; ARGV now, now - duration, limit, member, lifetime in ms.
# SimpleRateThrottle drops the instants at or before now - duration, refuses
# while `limit` remain, and otherwise records now. Instants travel as the
# strings Python wrote (Lua would print a number with 14 digits only). Answers
# {allowed, instants in the log, the oldest}.
_LOG_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2] or ARGV[1]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, count + 1, ARGV[1]}
"""
_SOCKET_TIMEOUT = 0.25  # seconds; Redis on the LAN answers in well under a millisecond
_RETRY_LOG_SECONDS = 60
_members = itertools.count()
_clients: dict[str, Any] = {}
_last_warning = [float("-inf")]


def _script(url: str) -> Any:
    """The log script on a client of `url`, made once a process (redis-py's
    pool reconnects after a fork by itself)."""
    if url not in _clients:
        client = redis.Redis.from_url(url, socket_timeout=_SOCKET_TIMEOUT, socket_connect_timeout=_SOCKET_TIMEOUT)
        _clients[url] = client.register_script(_LOG_SCRIPT)
    return _clients[url]


def _warn_unreachable(exc: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= _RETRY_LOG_SECONDS:
        _last_warning[0] = now
        logger.warning("throttle: Redis unreachable (%s); counting in this process's memory", type(exc).__name__)


class PerClientThrottle(SimpleRateThrottle):
    """One budget per API key (or per staff user), API_THROTTLE_RATE read at
    each request; 429 carries Retry-After."""

    scope = "client"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = caller_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident} if ident else None

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.shared_log: tuple[int, float] | None = None
        url = settings.THROTTLE_REDIS_URL
        if url:
            try:
                return self._allow_in_redis(url)
            except redis.RedisError as exc:
                _warn_unreachable(exc)
        return self._allow_in_memory()

    def _allow_in_redis(self, url: str) -> bool:
        member = f"{self.now!r}:{os.getpid()}:{next(_members)}"
        lifetime_ms = math.ceil(self.duration * 1000)
        args = [repr(self.now), repr(self.now - self.duration), self.num_requests, member, lifetime_ms]
        allowed, count, oldest = _script(url)(keys=[settings.THROTTLE_REDIS_PREFIX + self.key], args=args)
        self.shared_log = (int(count), float(oldest))
        return bool(allowed)

    def wait(self) -> float | None:
        """SimpleRateThrottle.wait, on the shared log when it decided."""
        if self.shared_log is None:
            return super().wait()
        count, oldest = self.shared_log
        available = self.num_requests - count + 1
        return (self.duration - (self.now - oldest)) / available if available > 0 else None

    def _allow_in_memory(self) -> bool:
        """SimpleRateThrottle's own decision, with the log kept as an array of
        floats instead of a list: the cache pickles it twice a request, and
        6,000 timestamps (a key at the default rate) cost about 360 µs as a
        list and 20 µs as an array. Same inputs, same decisions as the
        library's (a test compares them)."""
        history = self.cache.get(self.key)
        self.history = history if isinstance(history, array) else array("d", history or ())
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()


class ReadThrottle(PerClientThrottle):
    """The read endpoints' own budget of API_THROTTLE_RATE per key or staff
    user, apart from the verification budget. Anonymous callers are not
    counted here: behind a proxy they would share one address (see README)."""

    scope = "read"
