from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from core.commands import RegistryCommand
from recognition.log.evidence import check
from recognition.log.evidence_format import MAX_DOCUMENT_BYTES


class Command(RegistryCommand):
    help = (
        "Check a dispute's evidence file (GET audit/log/entries/{id}/evidence) with no database and no network, and "
        "print in one paragraph what it proves. --log-key and --witness-key are the keys you trust; without them, "
        "the file's own keys are used (weaker). Exit 0 when all holds, 1 with one line per failure otherwise."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="The evidence file (JSON)")
        parser.add_argument(
            "--log-key", action="append", default=[], metavar="VKEY", help="The log's vkey, obtained out of band"
        )
        parser.add_argument(
            "--witness-key",
            action="append",
            default=[],
            metavar="VKEY",
            help="A witness's vkey (cosignature/v1) whose cosignature is required; repeat for each",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Not RegistryCommand.handle: no transaction, so no database connection.
        path: Path = options["file"]
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        outcome = check(data, log_keys=options["log_key"], witness_keys=options["witness_key"])
        if outcome.failures:
            for failure in outcome.failures:
                self.stderr.write(f"does not hold: {failure}")
            count = len(outcome.failures)
            raise CommandError(f"{path} is not valid evidence ({count} failure{'s' if count > 1 else ''} above)")
        self.stdout.write(outcome.paragraph)
