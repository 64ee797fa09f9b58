import threading
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, InterfaceError

from core.commands import RegistryCommand, database_error_message
from recognition.log import witnesses
from recognition.log.integrator import integrate_all, run
from recognition.log.pusher import COSIGNED, push_latest


class Command(RegistryCommand):
    help = (
        "Run the audit log's integrator and witness pusher apart from the web processes (with "
        "AUDIT_INTEGRATOR=off there): give committed entries their leaf indices, grow the tree, sign checkpoints "
        "and send them to the witnesses. Runs until stopped; --once integrates what is pending, pushes the latest "
        "checkpoint to the witnesses and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="integrate what is pending, push, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        # Each batch is its own transaction: no command-wide transaction here.
        if options["once"]:
            try:
                self._once()
            except (DatabaseError, InterfaceError) as exc:  # a locked SQLite file, a lost connection
                raise CommandError(database_error_message(exc)) from None
            return
        stop = threading.Event()
        pusher = threading.Thread(target=witnesses.run, args=(stop,), name="audit-log-witness-pusher", daemon=True)
        pusher.start()
        try:
            run(stop)
        except KeyboardInterrupt:
            stop.set()
        pusher.join(5)

    def _once(self) -> None:
        done = integrate_all()
        if done.size < 0:  # the lock is another integrator's: it places what is pending
            self.stdout.write(f"placed {done.placed} entries; another integrator is at work")
            return
        self.stdout.write(f"placed {done.placed} entries; the tree has {done.size} leaves")
        for outcome in push_latest():
            said = "cosigned" if outcome.outcome == COSIGNED else f"{outcome.outcome}: {outcome.reason}"
            self.stdout.write(f"witness {outcome.witness}, size {outcome.size}: {said}")
