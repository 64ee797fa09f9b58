"""The audit log's integrator in other processes, against a database this
test also sees (tests/support/workers.py `database_url`: the PostgreSQL test
database, its data committed by a transactional test; or a SQLite file
migrated for the test, where WAL and the busy timeout let processes and
threads share it as in production). Python run in a child process with
Django set up, `manage.py integrate_audit_log` started and killed, and what
the log holds read back (`log_state`)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.support.cli import MANAGE, python_path

SETUP = """
import json, sys, time, threading
import django

django.setup()
"""

# What the log holds, as JSON: every entry's id and seq, the integrator's
# state, the checkpoints and check_log's report.
STATE = """
from recognition.log.integrity import check_log
from recognition.models import Checkpoint, LogEntry, LogState

state = LogState.objects.filter(id=1).values_list("size", flat=True).first()
report = check_log()
print(json.dumps({
    "entries": {str(id): seq for id, seq in LogEntry.objects.values_list("id", "seq")},
    "size": state,
    "checkpoints": list(Checkpoint.objects.order_by("size").values_list("size", flat=True)),
    "intact": report.intact,
    "problem": report.problem,
    "checked_size": report.size,
}))
"""


def environment(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": python_path(), **extra}


def python(url: str, code: str, *, timeout: float = 120, **env: str) -> Any:
    """Run `code` after Django's setup in a child process; its last line of
    output, as JSON."""
    done = subprocess.run(  # noqa: S603 (our own code)
        [sys.executable, "-c", SETUP + code],
        cwd=settings.BASE_DIR,
        env=environment(url, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def record(url: str, count: int, *, batch: int = 50) -> list[str]:
    """`count` decisions recorded as the request path records them, `batch`
    a request; their ids."""
    return python(
        url,
        f"""
from django.utils import timezone
from recognition.services.audit import record_decisions
from tests.support.audit import entry

ids = []
for start in range(0, {count}, {batch}):
    ids += [str(r.id) for r in record_decisions([entry()] * min({batch}, {count} - start), at=timezone.now())]
print(json.dumps(ids))
""",
    )


def log_state(url: str) -> dict[str, Any]:
    return python(url, STATE)


def integrator_process(url: str, *args: str, **env: str) -> subprocess.Popen:
    """`manage.py integrate_audit_log` in a child process."""
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(MANAGE), "integrate_audit_log", *args],
        cwd=Path(settings.BASE_DIR),
        env=environment(url, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
