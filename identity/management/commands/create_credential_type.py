from typing import Any

from django.core.management.base import CommandParser

from core.commands import RegistryCommand
from identity.services.credentials import credential_type_create


class Command(RegistryCommand):
    help = "Create a credential type, e.g. merchant-identity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="a slug, unique, e.g. merchant-identity")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")

    def run(self, **options: Any) -> None:
        credential_type = credential_type_create(
            code=options["code"], name=options["name"], description=options["description"]
        )
        self.confirm(f"created credential type {credential_type.code}")
