"""`manage.py run_demo_witnesses`: the demo's two witnesses, registered on
the first run, served until stopped (`make run` starts it beside the
development server)."""

import argparse
import signal
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from core.commands import RegistryCommand
from demo import witnesses


def parse_ports(value: str) -> list[int]:
    ports = value.split(",")
    if len(ports) != len(witnesses.WITNESSES) or not all(p.isdigit() and 1 <= int(p) <= 65535 for p in ports):
        raise argparse.ArgumentTypeError(f"{value!r} is not {len(witnesses.WITNESSES)} TCP ports, comma-separated")
    return [int(port) for port in ports]


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the witnesses as Ctrl-C does


class Command(RegistryCommand):
    help = "Register and run the demo's witnesses (China's and Chile's regulators) until stopped. Development only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ports", type=parse_ports, default=[8101, 8102], help="their ports (8101,8102)")
        parser.add_argument(
            "--directory", type=Path, default=witnesses.DIRECTORY, help="their keys and states (var/demo-witnesses)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: the demo's witnesses are for development only (DEBUG=1, as `make run`)")
        running = witnesses.start(options["ports"], options["directory"])
        signal.signal(signal.SIGTERM, _interrupted)
        try:
            # The registration is the command's one transaction; the witnesses then run outside any.
            # What was registered is said once committed: a stop (SIGTERM) during the commit
            # rolls it back, and nothing may have been announced by then.
            self.registered: list[str] = []
            super().handle(*args, running=running, **options)
            for line in self.registered:
                self.emit(line)
            while all(one.process.poll() is None for one in running):
                time.sleep(0.5)
            stopped = ", ".join(one.witness.name for one in running if one.process.poll() is not None)
            raise CommandError(f"demo witness {stopped} stopped; see its message above")
        except KeyboardInterrupt:
            pass
        finally:
            for one in running:
                one.process.terminate()
            for one in running:
                one.process.wait(10)

    def run(self, *, running: list[witnesses.Running], **options: Any) -> None:
        if not all(one.vkey for one in running):
            raise CommandError("a demo witness did not start; see its message above")
        self.registered = witnesses.register(running)
