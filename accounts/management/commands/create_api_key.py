from typing import Any

from django.core.management.base import CommandParser

from accounts.models import KeyRole
from accounts.services import api_key_create
from core.commands import RegistryCommand


class Command(RegistryCommand):
    help = "Create an API key for a platform or a regulator; prints the key once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="who uses the key; written on every audit row")
        parser.add_argument("--role", choices=KeyRole.values, default=KeyRole.PLATFORM)

    def run(self, **options: Any) -> None:
        api_key, secret = api_key_create(name=options["name"], role=options["role"])
        self.emit(secret)
        self.confirm(f"{api_key.role} key {api_key.name!r} created (prefix {api_key.prefix}); it is not shown again")
