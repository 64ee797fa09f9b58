from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import parse_country
from identity.management.arguments import ASSURANCE_METAVAR, parse_assurance
from identity.models import Assurance
from identity.services.authorities import authority_create


class Command(ActingCommand):
    help = "Register an authority that issues merchant credentials in one country."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--country", required=True, type=parse_country, metavar="COUNTRY", help="ISO 3166-1 alpha-2, e.g. CL"
        )
        parser.add_argument("--name", required=True)
        parser.add_argument("--issuer", required=True, help="the JWT 'iss' of its credentials: an https URL or a DID")
        parser.add_argument(
            "--max-assurance",
            type=parse_assurance,
            default=Assurance.HIGH.value,
            metavar=ASSURANCE_METAVAR,
            help="the highest level it is accredited to issue (default: high)",
        )

    def run(self, **options: Any) -> None:
        self.require_owned(options["country"])
        authority = authority_create(
            country=options["country"],
            name=options["name"],
            issuer=options["issuer"],
            max_assurance=options["max_assurance"],
            user=self.user,
        )
        self.confirm(f"created authority {authority.issuer} ({authority.country.code})")
