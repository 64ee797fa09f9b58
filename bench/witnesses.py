"""Witnesses for the HTTP rounds: `manage.py run_witness` processes on free
127.0.0.1 ports, registered with `manage.py add_witness` in the database of
the "witnessed" server, so that verify+audit can be measured with the
registry pushing every checkpoint to them (DESIGN §11) beside the same
measure without.

Everything goes through the commands a partner and an operator run: the
witness prints its vkey on start, the operator registers it.
"""

import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.http import free_port, terminate

ROOT = Path(__file__).resolve().parent.parent
# A cosignature/v1 vkey: <name>+<8 hex>+base64(0x04 || 32-byte key), 44 characters starting B[A-P].
VKEY = re.compile(r"[^\s+]+\+[0-9a-f]{8}\+B[A-P][A-Za-z0-9+/]{42}(?![A-Za-z0-9+/=])")
COUNTRIES = ("CN", "CL", "KZ", "VN")


@dataclass
class Witness:
    name: str
    country: str
    directory: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    vkey: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_vkeys: list[str]) -> None:
        command = [sys.executable, "manage.py", "run_witness", "--name", self.name]
        command += ["--key", str(self.directory / f"{self.name}.pem")]
        command += ["--state", str(self.directory / f"{self.name}.sqlite3")]
        command += ["--listen", f"127.0.0.1:{self.port}"]
        for log_vkey in log_vkeys:
            command += ["--log", log_vkey]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"witness {self.name} exited: {' | '.join(self.output[-5:])}")
            if self.vkey and self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"witness {self.name} printed no vkey or did not listen within 30 s")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            found = VKEY.search(line)
            if found and not self.vkey:
                self.vkey = found.group(0)

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}/add-checkpoint", data=b"", method="POST")  # noqa: S310
        try:
            urllib.request.urlopen(request, timeout=1)  # noqa: S310 (our own witness)
        except urllib.error.HTTPError:
            return True  # it refused an empty request: it listens
        except OSError:
            return False
        return True

    def register(self, database_url: str) -> None:
        command = [sys.executable, "manage.py", "add_witness", self.name, "--country", self.country]
        command += ["--url", self.url, "--vkey", self.vkey]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=dict(self.env, DATABASE_URL=database_url),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"add_witness {self.name}: {done.stderr.strip() or done.stdout.strip()}")

    def stop(self) -> None:
        terminate(self.process)


def log_vkeys(server_url: str) -> list[str]:
    """The log's vkeys, as the registry publishes them (GET audit/log/key)."""
    url = f"{server_url}/api/v1/audit/log/key"
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (our own server)
        return [line for line in answer.read().decode().splitlines() if line.strip()]


def start(count: int, server_url: str, database_url: str, directory: Path, env: dict[str, str]) -> list[Witness]:
    """`count` witnesses of the log served at `server_url`, registered in its database."""
    vkeys = log_vkeys(server_url)
    started: list[Witness] = []
    try:
        for number in range(count):
            witness = Witness(f"bench-witness-{number + 1}", COUNTRIES[number % len(COUNTRIES)], directory, env)
            started.append(witness)
            witness.start(vkeys)
            witness.register(database_url)
    except Exception:
        stop(started)
        raise
    return started


def stop(witnesses: list[Witness]) -> None:
    for witness in witnesses:
        witness.stop()


def cosigned(server_url: str) -> dict[str, int]:
    """The checkpoint the server serves: its size and how many cosignature
    lines follow the log's own (0 with a 503 when the quorum is not met)."""
    url = f"{server_url}/api/v1/audit/log/checkpoint"
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (our own server)
            note = answer.read().decode()
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "size": -1, "cosignatures": 0}
    text, _, signatures = note.rpartition("\n\n")
    lines = [line for line in signatures.splitlines() if line.startswith("\u2014 ")]
    return {"status": 200, "size": int(text.split("\n")[1]), "cosignatures": max(len(lines) - 1, 0)}
