"""Long-running worker processes (tests/support/workers.py), each holding
its persistent database connection, see at their very next verification a
merchant suspension made elsewhere (DESIGN §7): merchants are read for each
request, not cached. The same changes made and verified through the API:
tests/api/test_changes_take_effect.py."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from identity.models import Merchant
from identity.services.merchants import merchant_suspend
from tests.support.cli import MANAGE
from tests.support.workers import running_workers


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
