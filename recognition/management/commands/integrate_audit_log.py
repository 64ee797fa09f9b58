import threading
from typing import Any

from django.core.management.base import CommandParser

from core.commands import RegistryCommand
from recognition.log.integrator import integrate_all, run


class Command(RegistryCommand):
    help = (
        "Run the audit log's integrator apart from the web processes (with AUDIT_INTEGRATOR=off there): give "
        "committed entries their leaf indices, grow the tree and sign checkpoints. Runs until stopped; --once "
        "integrates what is pending and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="integrate what is pending, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        # Each batch is its own transaction: no command-wide transaction here.
        if options["once"]:
            done = integrate_all()
            if done.size < 0:  # the lock is another integrator's: it places what is pending
                self.stdout.write(f"placed {done.placed} entries; another integrator is at work")
                return
            self.stdout.write(f"placed {done.placed} entries; the tree has {done.size} leaves")
            return
        stop = threading.Event()
        try:
            run(stop)
        except KeyboardInterrupt:
            stop.set()
