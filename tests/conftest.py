import uuid
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from recognition.log.keys import log_key
from tests.support.actors import World, build_world
from tests.support.audit import ALLOW_AUDIT_TRUNCATE
from tests.support.clock import Clock
from tests.support.throttle_redis import TEST_REDIS_URL, require_redis


@pytest.fixture(scope="session", autouse=True)
def flush_may_truncate_the_audit_log():
    """Django's flush after each transactional test empties every table with
    one TRUNCATE, which the audit log refuses on PostgreSQL; the flush's own
    transaction sets the setting first. Nothing else in the suite gets it."""
    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    execute_sql_flush = operations.execute_sql_flush

    def flush_with_audit_truncate(self, sql_list):
        return execute_sql_flush(self, [ALLOW_AUDIT_TRUNCATE, *sql_list] if sql_list else sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "execute_sql_flush", flush_with_audit_truncate)
        yield


@pytest.fixture(scope="session", autouse=True)
def audit_log_key() -> None:
    """The audit log's key of the test run (AUDIT_LOG_KEY, under var/): the
    tests run without DEBUG, where a missing key is a configuration error,
    so it is made here once, as `rotate_audit_log_key` would."""
    log_key(create=True)


@pytest.fixture(scope="session", autouse=True)
def static_files_listed_once() -> Iterator[None]:
    """WhiteNoise lists and reads the metadata of every static file when its
    middleware is built, and Django's test client builds the middleware for
    each client: 65 ms a client, about a third of the suite's time. The
    files do not change during a run, so each static configuration's list
    is made once and copied into every new middleware, exactly as the scan
    would have filled it."""
    from django.conf import settings as django_settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    scan = WhiteNoiseMiddleware.add_files_from_finders
    listed: dict[tuple, dict] = {}

    def add_files_from_finders(self) -> None:
        key = (
            self.static_prefix, self.max_age, self.charset, self.allow_all_origins, self.index_file,
            self.add_headers_function, tuple(map(str, django_settings.STATICFILES_DIRS)),
            tuple(django_settings.STATICFILES_FINDERS), tuple(django_settings.INSTALLED_APPS),
        )  # fmt: skip
        if key not in listed:
            held, self.files = self.files, {}
            try:
                scan(self)
                listed[key] = self.files
            finally:
                self.files = held
        self.files.update(listed[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WhiteNoiseMiddleware, "add_files_from_finders", add_files_from_finders)
        yield


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
    """A fake clock at T0 (tests/support/clock.py), after the world was built."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def shared(settings):
    """The budgets in Redis, under a prefix of this test's own; removed after."""
    require_redis()
    prefix = f"test-throttle:{uuid.uuid4().hex}:"
    settings.THROTTLE_REDIS_URL = TEST_REDIS_URL
    settings.THROTTLE_REDIS_PREFIX = prefix
    cache.clear()
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    cache.clear()


@pytest.fixture
def start_test_witness():
    """Start test witnesses (tests/support/witness.py) that know this
    registry's log key; all stopped at the end of the test."""
    from tests.support.witness import start_witness

    started = []

    def start(name: str = "witness.test/w1"):
        running = start_witness(name, [log_key().vkey])
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(params=["test witness", "run_witness"])
def witness_endpoint(request, start_test_witness, tmp_path) -> Iterator[tuple[str, str]]:
    """(url, vkey) of a witness that cosigns this registry's log: the test
    witness in this process, and the witness a partner runs
    (`manage.py run_witness` in a process of its own)."""
    if request.param == "test witness":
        running = start_test_witness("witness.test/partner")
        yield running.url, running.witness.vkey
        return
    from tests.support.witness_processes import WitnessProcess

    process = WitnessProcess(tmp_path, log_key().vkey)
    try:
        yield process.url.removesuffix("/add-checkpoint"), process.vkey
    finally:
        assert process.stop() == 0
