"""`manage.py load_demo`: the idempotent demo data of a first run (DESIGN §7)."""

import argparse
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from core.commands import RegistryCommand
from demo.loader import format_report, load_demo, login_url

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$")


def parse_host(value: str) -> str:
    """A host name or an IP address (IPv6 with or without brackets)."""
    host = value.strip()
    if not _HOST.match(host):
        raise argparse.ArgumentTypeError(f"{value!r} is not a host name or an IP address")
    return host


def parse_port(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (1-65535)")
    return int(value)


class Command(RegistryCommand):
    help = (
        "Load the demo data: China and eight Silk Road e-commerce partner countries, fictional authorities, "
        "DEMO-ONLY keys, merchants, credentials, agreements and demo accounts. Running it again changes nothing. "
        "Development only: it refuses to run with DEBUG off unless --allow-without-debug is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="load the demo although DEBUG is off (a throwaway database only: its passwords and keys are public)",
        )
        parser.add_argument(
            "--host", type=parse_host, default="127.0.0.1", help="the development server's host, for the login URL"
        )
        parser.add_argument("--port", type=parse_port, default=8000, help="the development server's port (8000)")

    def run(self, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "DEBUG is off: load_demo creates a superuser and API keys whose secrets are published, "
                "so it runs in development only (DEBUG=1, as `make run` sets); "
                "for a throwaway database give --allow-without-debug"
            )
        try:
            report = load_demo()
        except ValidationError as exc:
            raise CommandError(f"load_demo wrote nothing: {'; '.join(exc.messages)}") from None
        self.emit(format_report(report, admin_url=login_url(options["host"], options["port"])))
