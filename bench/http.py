"""HTTP mode: gunicorn sync workers on 127.0.0.1 and wrk as the load.

Each database gets its own gunicorn (bench settings, persistent connections,
an access log of status and path only). wrk posts the worker's request
bodies in turn at 16 connections; a round runs every endpoint once, in a
shuffled order, so that drift of the machine falls on all of them alike.

Every answer is checked: wrk counts non-2xx answers and socket errors, and
the audit rows written during a run are compared with the 2xx answers of the
audited endpoint in gunicorn's access log (wrk cannot count answers to
requests still in flight when it stops; the server's log can).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk" / "post.lua"
GET_LUA = ROOT / "bench" / "wrk" / "get.lua"


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return "wrk absent"
    done = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split("\n")[0].split(" [")[0].strip() or "wrk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """One gunicorn serving one database."""

    name: str
    database_url: str
    env: dict[str, str]
    workers: int
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def access_log(self) -> Path:
        return self.directory / f"access-{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        command += ["--workers", str(self.workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--access-logfile", str(self.access_log), "--access-logformat", "%(s)s %(U)s"]
        command += ["--error-logfile", str(self.directory / f"error-{self.name}.log"), "--log-level", "warning"]
        command += ["--timeout", "120", "--backlog", "2048"]
        env = dict(self.env, DATABASE_URL=self.database_url, DJANGO_SETTINGS_MODULE="bench.settings")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.name} exited; see {self.directory}/error-{self.name}.log")
            probe = urllib.request.Request(f"{self.url}/healthz", headers={"X-Forwarded-Proto": "https"})  # noqa: S310
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:  # noqa: S310 (our own server)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn for {self.name} did not answer /healthz within 60 s")

    def stop(self) -> None:
        terminate(self.process)

    def wait_until_idle(self, *, quiet: float = 0.5, longest: float = 30.0) -> None:
        """Until the access log has not grown for `quiet` seconds."""
        deadline, size, since = time.monotonic() + longest, self.log_offset(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.log_offset()
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def answers_since(self, offset: int, path: str, expected: str = "2") -> tuple[int, int]:
        """(answers to `path` whose status starts with `expected`, answers
        to anything whose status does not) logged since `offset`."""
        with self.access_log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        good = sum(1 for line in lines if line.startswith(expected) and line.endswith(" " + path))
        bad = sum(1 for line in lines if line and not line.startswith(expected))
        return good, bad

    def etag(self, path: str) -> str:
        """The ETag of a public document, as a reader first fetches it."""
        probe = urllib.request.Request(f"{self.url}{path}", headers={"X-Forwarded-Proto": "https"})  # noqa: S310
        with urllib.request.urlopen(probe, timeout=10) as answer:  # noqa: S310 (our own server)
            return answer.headers["ETag"]


def run_wrk(
    server: Server,
    path: str,
    *script_args: str,
    seconds: float,
    connections: int,
    script: Path = LUA,
) -> dict[str, Any]:
    """wrk on `path` with `script` (post.lua: BODIES_FILE API_KEY; get.lua: ETAG)."""
    path_to_wrk = wrk_path()
    assert path_to_wrk, "wrk is absent"
    command = [path_to_wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    command += ["-s", str(script), server.url + path, "--", *script_args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False, env=os.environ)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[len("BENCH ") :])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")


def terminate(process: subprocess.Popen | None) -> None:
    """Stop a server process: SIGTERM (gunicorn finishes its requests), and
    SIGKILL if it has not exited within 30 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
