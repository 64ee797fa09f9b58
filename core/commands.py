"""What every registry management command shares (DESIGN §7, §10).

A command validates its input, prints one line `error: <problem>` on stderr and
exits non-zero on bad input, and writes nothing half-way. The documented value
(kid, JWT, id, password) is the only thing written on stdout, so that scripts
can capture it; confirmations for people go to stderr.

The argument parsers below are argparse `type=` callables: a refusal names the
option ("argument --country: 'XX' is not ..."). `call_command` converts only
arguments given as strings in its positional list, as on the command line.
"""

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, IntegrityError, InterfaceError, transaction

from core.changes import integrity_error_message
from core.countries import is_country_code
from core.history import acting_operator, operator_login

MAX_JSON_BYTES = 1024 * 1024
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")


# Argument parsers ----------------------------------------------------------


def parse_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; unknown codes are refused."""
    code = value.strip().upper()
    if not is_country_code(code):
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def parse_datetime_utc(value: str) -> datetime:
    """ISO 8601 `2026-03-01` or `2026-03-01T00:00:00Z`, always UTC (DESIGN §10):
    a date alone is 00:00:00Z, a time without offset is UTC, any other offset
    is refused rather than silently converted."""
    text = value.strip().upper()
    if not (_DATE.match(text) or _DATETIME.match(text)):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date or UTC time (2026-03-01 or 2026-03-01T00:00:00Z)"
        )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid date") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.utcoffset() != timedelta(0):
        raise argparse.ArgumentTypeError(f"{value!r} has a non-UTC offset; give the time in UTC (Z)")
    return parsed.astimezone(UTC)


def parse_code_list(value: str) -> list[str]:
    """Comma-separated codes, in order, without blanks or repeats."""
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes:
        raise argparse.ArgumentTypeError("give at least one code")
    return codes


def add_reason_argument(parser: argparse.ArgumentParser) -> None:
    """`--reason TEXT`: why, kept in the change's history."""
    parser.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the history of the change)")


# Files ---------------------------------------------------------------------


def read_json_file(path: Path) -> Any:
    """The JSON value a file holds; any problem is one line naming the file."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_JSON_BYTES:
        raise CommandError(f"{path} is larger than {MAX_JSON_BYTES} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        # The decoder recurses once per level; a file within the size cap can
        # still nest deeper than the interpreter's stack allows.
        raise CommandError(f"{path} is not valid JSON (nested too deeply)") from None


# The command ---------------------------------------------------------------


def validation_message(exc: ValidationError) -> str:
    """The messages of a ValidationError on one line, each field named."""
    if hasattr(exc, "error_dict"):
        parts = [
            message if field == NON_FIELD_ERRORS else f"{field}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        parts = exc.messages
    return "; ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def database_error_message(exc: Exception) -> str:
    """One line for a database failure, with the driver's short reason."""
    lines = str(exc).strip().splitlines()
    reason = _one_line(lines[0])[:200] if lines else type(exc).__name__
    return f"the database could not complete the command; nothing was written ({reason})"


def _parser_error(parser: CommandParser, message: str) -> None:
    """argparse prints the usage and then the message; scripts get one line."""
    if parser.called_from_command_line:
        parser.exit(2, f"error: {_one_line(message)}\n")
    raise CommandError(f"Error: {message}")


class RegistryCommand(BaseCommand):
    """Subclasses implement `run(**options)`; refusals of the services become a
    one-line error and the whole command runs in one transaction."""

    # Like createsuperuser: no system checks, whose warnings would break the
    # "one line on stderr" contract scripts rely on.
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = partial(_parser_error, parser)
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            # Django would print "CommandError: ..."; the contract is "error: ...".
            self.stderr.write(f"error: {_one_line(exc)}")
            raise SystemExit(exc.returncode) from None

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options.get("verbosity", 1)
        try:
            # The person at the shell is the operator of every change made
            # here (history_operator), whatever user the change is made as.
            with acting_operator(operator_login()), transaction.atomic():
                self.prepare(**options)
                self.run(**options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        except IntegrityError as exc:
            raise CommandError(integrity_error_message(exc)) from None
        except (DatabaseError, InterfaceError) as exc:
            # A locked SQLite file, a lost connection, an unmigrated database:
            # the transaction above was rolled back, so nothing was written.
            raise CommandError(database_error_message(exc)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or 'file'}: {exc.strerror}") from None

    def prepare(self, **options: Any) -> None:
        """What subclasses of a kind read before `run` (e.g. the acting user)."""

    def run(self, **options: Any) -> None:
        raise NotImplementedError

    def emit(self, value: object) -> None:
        """The documented output, on stdout."""
        self.stdout.write(str(value))

    def confirm(self, message: str) -> None:
        """A confirmation for people, on stderr (quiet with -v 0)."""
        if self.verbosity >= 1:
            self.stderr.write(message)
