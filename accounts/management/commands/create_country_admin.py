from typing import Any

from django.core.management.base import CommandParser

from accounts.models import Role
from accounts.services import user_create_with_role
from core.commands import RegistryCommand, parse_country


class Command(RegistryCommand):
    help = "Create a staff user who administers one country. Prints the password when it was generated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--country", required=True, type=parse_country, metavar="COUNTRY", help="the administered country, e.g. CN"
        )
        parser.add_argument("--password", help="default: a generated one, printed once")

    def run(self, **options: Any) -> None:
        user, generated = user_create_with_role(
            username=options["username"],
            role=Role.COUNTRY_ADMIN,
            country=options["country"],
            password=options["password"],
        )
        if generated is not None:
            self.emit(generated)
        self.confirm(f"created {user.get_username()}, administrator of {options['country']}")
