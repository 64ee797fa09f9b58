"""DESIGN §7: a status change, made through the admin action, the management
command or the service, takes effect for the very next verification on every
worker.

The verification path does cache mutable state: each worker keeps the
authorities, their keys, the agreements and the credential types in a
`RegistrySnapshot` (recognition/services/verification.py), tagged with the
registry stamp it was loaded at. Every write to those tables gives the stamp
a new value in the same transaction (database triggers, migration 0005), and
every verification reads the stamp and reloads a snapshot that is not of it.
Merchants and registry-issued credentials are not cached: they are read for
each request. The tests here change each kind of state (a key, a merchant, an
agreement) and verify at once; the two-process test shows that a
long-running worker, holding its persistent database connection, sees a
merchant suspension another process made, and
tests/api/test_hot_path_registry_cache.py that one sees a key compromised by
another process (the snapshot's invalidation)."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from identity.models import AuthorityKey, Merchant
from identity.services.keys import key_mark_compromised
from identity.services.merchants import merchant_reinstate, merchant_suspend
from recognition.models import RecognitionAgreement
from recognition.services import agreements
from tests.support.actors import World
from tests.support.admin import client_for, latest_history_user, messages_of, post_action
from tests.support.cli import MANAGE, call, manage
from tests.support.tokens import sign


@dataclass(frozen=True)
class Change:
    reason: str
    model: type
    action: str
    target: Callable[[World], object]
    admin: Callable[[World], object]  # the country administrator who may act
    command: Callable[[World], list[object]]
    service: Callable[..., object]
    service_argument: str


CHANGES = {
    "key compromised": Change(
        reason="key_compromised",
        model=AuthorityKey,
        action="mark_compromised",
        target=lambda world: world.cl.key,
        admin=lambda world: world.bob,
        command=lambda world: ["compromise_key", "--", world.cl.authority.issuer, world.cl.key.kid],
        service=key_mark_compromised,
        service_argument="key",
    ),
    "merchant suspended": Change(
        reason="merchant_suspended",
        model=Merchant,
        action="suspend",
        target=lambda world: world.cl.merchant,
        admin=lambda world: world.bob,
        command=lambda world: ["set_merchant_status", world.cl.authority.issuer, "CL-0001", "suspended"],
        service=merchant_suspend,
        service_argument="merchant",
    ),
    "agreement suspended": Change(
        reason="agreement_not_in_force",
        model=RecognitionAgreement,
        action="suspend",
        target=lambda world: world.cn_recognizes_cl,
        admin=lambda world: world.alice,
        command=lambda world: ["set_agreement_status", world.cn_recognizes_cl.pk, "suspended"],
        service=agreements.agreement_suspend,
        service_argument="agreement",
    ),
}


def make(change: Change, world: World, how: str) -> None:
    target = change.target(world)
    if how == "admin action":
        admin = change.admin(world)
        response = post_action(client_for(admin), change.model, change.action, [target])
        assert response.status_code == 200
        assert not any("not yours" in message for message in messages_of(response))
        target.refresh_from_db()
        assert latest_history_user(target) == admin
    elif how == "management command":
        call(*change.command(world))
    else:
        change.service(**{change.service_argument: target})


@pytest.mark.parametrize("how", ["admin action", "management command", "service"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_change_takes_effect_for_the_very_next_verification(world, api, name, how):
    change = CHANGES[name]
    token = sign(world.cl)
    assert api.codes(token, "CN", "CL") == []

    make(change, world, how)

    assert api.codes(token, "CN", "CL") == [change.reason]


@pytest.mark.parametrize(
    ("name", "intruder"),
    [
        ("key compromised", "alice"),  # a Chilean key: not China's to change
        ("merchant suspended", "alice"),
        ("agreement suspended", "bob"),  # China's agreement: not Chile's to change
        ("key compromised", "rita"),  # a regulator changes nothing
        ("merchant suspended", "rita"),
        ("agreement suspended", "rita"),
    ],
)
def test_refused_admin_action_changes_no_answer(world, api, name, intruder):
    change = CHANGES[name]
    token = sign(world.cl)
    assert api.codes(token, "CN", "CL") == []

    post_action(client_for(getattr(world, intruder)), change.model, change.action, [change.target(world)])

    assert api.codes(token, "CN", "CL") == []


def test_reinstatement_takes_effect_as_quickly(world, api):
    token = sign(world.cl)
    merchant_suspend(merchant=world.cl.merchant)
    agreements.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert api.codes(token, "CN", "CL") == ["merchant_suspended", "agreement_not_in_force"]

    merchant_reinstate(merchant=world.cl.merchant)
    assert api.codes(token, "CN", "CL") == ["agreement_not_in_force"]
    agreements.agreement_activate(agreement=world.cn_recognizes_cl)
    assert api.codes(token, "CN", "CL") == []


# Two processes ------------------------------------------------------------------------------

# A long-running worker: Django set up once, one persistent connection
# (CONN_MAX_AGE), verifying the tokens it reads, one JSON line per answer.
WORKER = """
import json, sys
import django

django.setup()
from django.conf import settings
from django.db import connection

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from recognition.services.verification import VerificationRequest, verify_credentials

for line in sys.stdin:
    command = json.loads(line)
    if command == "setup":
        from tests.support.actors import build_world
        from tests.support.tokens import sign

        print(json.dumps(sign(build_world().cl)), flush=True)
        continue
    (outcome,) = verify_credentials([VerificationRequest(command, "CN", "CL")], client="worker")
    print(json.dumps({"codes": outcome.decision.codes, "connection": id(connection.connection)}), flush=True)
"""


class Worker:
    def __init__(self, script: Path, database_url: str) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url}
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=settings.BASE_DIR,
            env={**env, "PYTHONPATH": str(settings.BASE_DIR)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: str) -> object:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the worker died (exit status {self.process.wait(timeout=10)})"
        return json.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def database_url(tmp_path: Path) -> str:
    """The PostgreSQL test database (its data committed: the test is
    transactional), or a fresh SQLite file migrated by `manage.py`."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"
    path = tmp_path / "registry.sqlite3"
    migrated = manage(path, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return f"sqlite:///{path}"


@contextmanager
def running_workers(tmp_path: Path) -> Iterator[tuple[str, list[Worker]]]:
    url = database_url(tmp_path)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    started = [Worker(script, url), Worker(script, url)]
    try:
        yield url, started
    finally:
        for worker in started:
            worker.stop()


def suspend_in_another_process(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    args = ["set_merchant_status", "https://registro-cl.test/issuer", "CL-0001", "suspended"]
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def suspend_in_this_process(url: str) -> None:
    merchant_suspend(merchant=Merchant.objects.get(registration_number="CL-0001"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # on PostgreSQL, the workers' data is committed; flushed after
@pytest.mark.parametrize("suspend", [suspend_in_another_process, suspend_in_this_process], ids=["command", "test"])
def test_running_worker_processes_see_a_suspension_made_elsewhere(tmp_path, suspend):
    if suspend is suspend_in_this_process and connection.vendor != "postgresql":
        pytest.skip("this process shares the workers' database only on PostgreSQL")
    with running_workers(tmp_path) as (url, (first, second)):
        token = first.ask("setup")
        before = [first.ask(token), second.ask(token)]
        assert [answer["codes"] for answer in before] == [[], []]

        suspend(url)

        after = [first.ask(token), second.ask(token)]

    assert [answer["codes"] for answer in after] == [["merchant_suspended"]] * 2
    # Each worker answered on the same persistent connection both times.
    assert [answer["connection"] for answer in after] == [answer["connection"] for answer in before]
