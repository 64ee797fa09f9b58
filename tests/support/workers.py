"""Worker processes for the tests of what a long-running worker sees:
Django set up once, one persistent database connection, verifying the
tokens it reads (the service, not HTTP), one JSON line per answer."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from tests.support.cli import manage, python_path

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
            env={**env, "PYTHONPATH": python_path()},
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
