"""Running management commands in tests: in-process through `call_command`
(fast, inside the test transaction) and, for what only a real process shows
(exit status, the one-line error, no traceback), through `manage.py`."""

import os
import subprocess
import sys
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def python_path() -> str:
    """PYTHONPATH of a child process: this checkout's verifier package first
    (as pyproject's pytest `pythonpath` gives the tests themselves), whatever
    copy the virtualenv holds, then the project."""
    base = Path(settings.BASE_DIR)
    return os.pathsep.join((str(base / "verifier" / "src"), str(base)))


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def call(name: str, *args: object) -> Output:
    """Run a command in-process with command-line style arguments (so that
    argparse converts and checks them as it does for a user)."""
    stdout, stderr = StringIO(), StringIO()
    call_command(name, *[str(arg) for arg in args], stdout=stdout, stderr=stderr)
    return Output(stdout.getvalue(), stderr.getvalue())


@dataclass(frozen=True)
class Process:
    returncode: int
    stdout: str
    stderr: str


def manage(database: Path, *args: object) -> Process:
    """Run `manage.py` in a child process on the SQLite file `database`."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": python_path()}
    done = subprocess.run(
        [sys.executable, str(MANAGE), *[str(arg) for arg in args]],
        env=env,
        cwd=MANAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Process(done.returncode, done.stdout, done.stderr)


def create_key(name: str, *options: str) -> str:
    """`create_api_key` in-process: the key it prints, its one line of output."""
    output = call("create_api_key", name, *options)
    lines = output.lines
    assert len(lines) == 1, output.stdout
    return lines[0]
