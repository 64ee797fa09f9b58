"""README "Try it (after `make run`)", run as written in a fresh shell.

A registry is served as `make run` serves it (DEBUG=1, migrated, `load_demo`,
`runserver`) on a fresh SQLite file, and every `$` command of the section
runs verbatim in one bash with an environment of PATH, HOME and
DATABASE_URL only (DATABASE_URL stands for the `db.sqlite3` that `make run`
made, which the commands then read by default: no DEBUG, no SECRET_KEY).
curl's connections to the README's 127.0.0.1:8000 go to the test's server
through a ~/.curlrc (`connect-to`), so the URLs and Host headers stay as
written and no fixed port is taken. The throttled request runs against a
second server of the same database started with the environment the README
names, API_THROTTLE_RATE=2/min, three times: the third is the one shown.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.readme_shell import Step, assert_shown, curl_home, free_port, section, steps, wait_until_serving

BASE = Path(settings.BASE_DIR)
HEADING = "### Try it (after `make run`)"
MARK = "@@readme-step@@"


def server_environment(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "DEBUG": "1",  # as `make run` serves
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "REGISTRY_SIGNING_KEY": str(tmp / "registry-signing-key.pem"),
        "AUDIT_LOG_KEY": str(tmp / "audit-log-key.pem"),
        **extra,
    }


def prepare(tmp: Path) -> None:
    for command in (["migrate", "--no-input", "-v", "0"], ["load_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE,
            env=server_environment(tmp),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr


class Server:
    def __init__(self, tmp: Path, **extra: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=BASE,
            env=server_environment(tmp, **extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until_serving(f"http://127.0.0.1:{self.port}/healthz", self.process)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Iterator[tuple[Path, Server, Server]]:
    tmp = tmp_path_factory.mktemp("try-it")
    prepare(tmp)
    plain = Server(tmp)
    throttled = Server(tmp, API_THROTTLE_RATE="2/min")
    try:
        yield tmp, plain, throttled
    finally:
        plain.stop()
        throttled.stop()


def fresh_shell(script: str, *, home: Path, database: Path) -> str:
    """`script` in bash with PATH, HOME and DATABASE_URL only, in the
    project directory; stdout and stderr together, as a terminal shows them."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run(
        ["bash", "-c", "exec 2>&1\n" + script],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout


def transcript(commands: list[Step], **shell: Path) -> list[str]:
    """Each command's output, the commands run one after another in one shell."""
    script = "".join(f"printf '\\n{MARK}\\n'\n{step.command}\n" for step in commands)
    return fresh_shell(script, **shell).split(f"\n{MARK}\n")[1:]


def the_steps() -> list[Step]:
    return steps(section((BASE / "README.md").read_text(encoding="utf-8"), HEADING))


def test_the_section_is_read_as_the_reader_sees_it():
    found = the_steps()
    assert found[0].command.startswith("TOKEN=$(.venv/bin/python manage.py issue_credential ")
    assert sum(step.command.startswith("curl ") for step in found) == 8
    comments = [i for i, step in enumerate(found) if step.is_comment]
    assert [found[i].command for i in comments] == [
        "# with API_THROTTLE_RATE=2/min in the server's environment, a third request within the minute:"
    ]
    assert all(step.shown for step in found if not step.is_comment)


def test_the_readme_try_it_runs_verbatim_in_a_fresh_shell(registry):
    tmp, plain, throttled = registry
    found = the_steps()
    throttle_at = next(i for i, step in enumerate(found) if step.is_comment)
    assert (BASE / ".venv" / "bin" / "python").exists(), (
        "the README's commands run .venv/bin/python (make run makes it)"
    )

    commands = found[:throttle_at]
    outputs = transcript(commands, home=curl_home(tmp / "home-plain", plain.port), database=tmp / "db.sqlite3")
    assert len(outputs) == len(commands)
    for step, output in zip(commands, outputs, strict=True):
        assert_shown(step, output)
    assert "Traceback" not in "".join(outputs) and "ImproperlyConfigured" not in "".join(outputs)

    (limited,) = found[throttle_at + 1 :]
    home = curl_home(tmp / "home-throttled", throttled.port)
    *allowed, third = transcript([limited] * 3, home=home, database=tmp / "db.sqlite3")
    assert all(output.startswith("HTTP/1.1 200 OK") for output in allowed), allowed
    assert_shown(limited, third)


def test_the_commands_run_with_no_debug_and_no_secret_key(registry):
    """The first command's own environment: nothing beyond PATH, HOME and the database."""
    tmp, plain, _ = registry
    (first,) = the_steps()[:1]
    script = first.command + '\nprintf "%s" "${TOKEN:+token set}"'
    output = fresh_shell(script, home=curl_home(tmp / "home-env", plain.port), database=tmp / "db.sqlite3")
    assert output.rstrip().endswith("token set"), output
