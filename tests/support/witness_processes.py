"""`manage.py run_witness` in a child process on 127.0.0.1 (port 0: the
witness takes a free port and says which on stderr), talked to over HTTP
with http.client, stopped by a signal. The registry's database URL points
at a file that must never appear: the witness uses no database."""

import http.client
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.cli import MANAGE, Process, manage

START_SECONDS = 60


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def unused_database(tmp: Path) -> Path:
    return tmp / "registry-unused.sqlite3"


def environment(tmp: Path) -> dict[str, str]:
    return {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{unused_database(tmp)}"}


def command(tmp: Path, *logs: str, name: str = "witness.example/cn", extra: tuple[str, ...] = ()) -> list[str]:
    arguments = ["--name", name, "--key", str(tmp / "witness.pem"), "--state", str(tmp / "state.db")]
    arguments += ["--listen", "127.0.0.1:0", *[part for log in logs for part in ("--log", log)], *extra]
    return [sys.executable, str(MANAGE), "run_witness", *arguments]


class WitnessProcess:
    """A running witness: its vkey line, its URL and what it wrote on stderr."""

    def __init__(self, tmp: Path, *logs: str, extra: tuple[str, ...] = ()) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own command)
            command(tmp, *logs, extra=extra),
            cwd=MANAGE.parent,
            env=environment(tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.stdout_line = self.process.stdout.readline()
        self.url = self._wait_for("listening on ").split()[-1]

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for(self, start: str) -> str:
        while True:
            line = self._lines.get(timeout=START_SECONDS)
            if line is None:
                raise AssertionError(f"the witness stopped: {self.stderr_lines}")
            if line.startswith(start):
                return line.strip()

    def saw(self, fragment: str, timeout: float = 30) -> bool:
        """Whether the witness wrote a line holding `fragment` on stderr
        within `timeout` seconds (the reader thread may lag behind)."""
        deadline = time.monotonic() + timeout
        while not any(fragment in line for line in self.stderr_lines):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    @property
    def vkey(self) -> str:
        assert self.stdout_line.startswith("witness vkey: "), self.stdout_line
        return self.stdout_line.removeprefix("witness vkey: ").strip()

    def connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def send(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Reply:
        connection = self.connection()
        try:
            return exchange(connection, method, path, body, headers)
        finally:
            connection.close()

    def add_checkpoint(self, body: bytes) -> Reply:
        return self.send("POST", "/add-checkpoint", body)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> Reply:
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return Reply(response.status, response.getheader("Content-Type", ""), data, dict(response.getheaders()))


def refused_start(tmp: Path, *arguments: str) -> Process:
    """`manage.py run_witness` with these arguments, expected to stop at once."""
    return manage(unused_database(tmp), "run_witness", *arguments)
