"""`manage.py run_witness`: the witness a partner country runs (DESIGN §11).
Its only output on stdout is the line "witness vkey: <vkey>", so that a
script can take it; the rest goes to stderr. It uses no database."""

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import RegistryCommand
from recognition.log.witnessing import PATH
from witness.serving import WitnessServer, serve
from witness.start import StartError, start


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT ([::1]:PORT for IPv6); port 0 picks a free one."""
    host, colon, port = value.rpartition(":")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:8380)")
    return host.removeprefix("[").removesuffix("]"), int(port)


class Command(RegistryCommand):
    help = "Run a C2SP tlog-witness that cosigns the checkpoints of the logs whose keys it is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the witness's key name")
        parser.add_argument("--key", required=True, type=Path, help="its Ed25519 PEM key, created if missing")
        parser.add_argument("--state", required=True, type=Path, help="its SQLite state file")
        parser.add_argument("--listen", required=True, type=parse_listen, help="HOST:PORT")
        parser.add_argument("--log", required=True, action="append", help="a log's vkey (repeatable)")
        parser.add_argument(
            "--reset-state", action="store_true", help="start afresh, forgetting what this witness cosigned"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["listen"]
        try:
            server = WitnessServer((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        try:
            started = start(
                name=options["name"], key=options["key"], state=options["state"], logs=options["log"],
                reset=options["reset_state"],
            )  # fmt: skip
        except StartError as exc:
            server.server_close()
            raise CommandError(str(exc)) from None
        server.witness = started.witness
        if started.created_key:
            self.stderr.write(f"created the witness key {options['key']}")
        if started.moved_state:
            self.stderr.write(f"--reset-state: the old state file is now {started.moved_state}")
        self.stdout.write(f"witness vkey: {started.witness.vkey}")
        self.stdout.flush()
        address = "http://{}:{}{}".format(*server.server_address[:2], PATH)
        serve(server, on_ready=lambda: self.stderr.write(f"listening on {address}"))
