from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from identity.services.credentials import credential_type_create


class Command(ActingCommand):
    help = "Create a credential type, e.g. merchant-identity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="a slug, unique, e.g. merchant-identity")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")

    def run(self, **options: Any) -> None:
        # Every country's agreements and credentials name the types.
        self.require_operator("credential types are shared by every country")
        credential_type = credential_type_create(
            code=options["code"], name=options["name"], description=options["description"], user=self.user
        )
        self.confirm(f"created credential type {credential_type.code}")
