"""The demo's two witnesses (DESIGN §11), China's and Chile's market
regulators, so that a first `make run` shows cosigned checkpoints.

Each runs as a partner would run it, `manage.py run_witness` in a process
of its own, on a local port, with its key and state under var/demo-witnesses/
(made by the witness on its first run, mode 0600; not committed, as git
cannot keep a key file private). It is registered as an operator would,
with the vkey it prints, by `witness_add`, the first time; a registration
that no longer matches it (var/ removed but not the database) is refused
with what to do.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from recognition.log.keys import published_vkeys
from recognition.models import Witness
from recognition.services.witnesses import witness_add

DIRECTORY = Path(settings.BASE_DIR) / "var" / "demo-witnesses"


@dataclass(frozen=True)
class DemoWitness:
    name: str
    country: str
    slug: str

    def key_path(self, directory: Path) -> Path:
        return directory / f"{self.slug}.pem"

    def state_path(self, directory: Path) -> Path:
        return directory / f"{self.slug}.sqlite3"


WITNESSES = (
    DemoWitness("witness.samr.cn.example", "CN", "cn-samr"),
    DemoWitness("witness.sernac.cl.example", "CL", "cl-sernac"),
)


def command(witness: DemoWitness, port: int, directory: Path = DIRECTORY) -> list[str]:
    """The run_witness command line of one demo witness, for the log's keys."""
    line = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "run_witness", "--name", witness.name]
    line += ["--key", str(witness.key_path(directory)), "--state", str(witness.state_path(directory))]
    line += ["--listen", f"127.0.0.1:{port}"]
    for log_vkey in published_vkeys():
        line += ["--log", log_vkey]
    return line


@dataclass
class Running:
    witness: DemoWitness
    url: str
    process: subprocess.Popen
    vkey: str = ""


def start(ports: list[int], directory: Path = DIRECTORY) -> list[Running]:
    """Each witness started; its vkey read from the one line it prints on
    stdout ("witness vkey: ..."), empty when it stopped without one."""
    directory.mkdir(parents=True, exist_ok=True)
    running = []
    for witness, port in zip(WITNESSES, ports, strict=True):
        line = command(witness, port, directory)
        process = subprocess.Popen(line, stdout=subprocess.PIPE, text=True)  # noqa: S603 (our manage.py, our arguments)
        running.append(Running(witness, f"http://127.0.0.1:{port}", process))
    for one in running:
        printed = one.process.stdout.readline()
        one.vkey = printed.removeprefix("witness vkey: ").strip() if printed.startswith("witness vkey: ") else ""
    return running


def register(running: list[Running]) -> list[str]:
    """Register the witnesses that run (once); what was done, a line each."""
    said = []
    for one in running:
        name = one.witness.name
        found = Witness.objects.filter(name=name).first()
        if found is None:
            witness_add(name=name, country=one.witness.country, url=one.url, vkey=one.vkey)
            said.append(f"registered the demo witness {name} at {one.url}")
        elif found.vkey != one.vkey or found.url != one.url or found.retired_at is not None:
            raise ValidationError(
                f"the demo witness {name} is registered with another key, address or status than the one "
                f"running at {one.url}: `make clean` starts the demo afresh"
            )
    return said
