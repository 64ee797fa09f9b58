from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from identity.management.arguments import ASSURANCE_METAVAR, add_issuer_argument, parse_assurance
from identity.models import Assurance
from identity.selectors import authority_by_issuer
from identity.services.merchants import merchant_register


class Command(ActingCommand):
    help = "Register a merchant under an authority."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("registration_number", metavar="REGNO", help="the merchant's registration number (sub)")
        parser.add_argument("--legal-name", required=True)
        parser.add_argument(
            "--assurance", type=parse_assurance, default=Assurance.SUBSTANTIAL.value, metavar=ASSURANCE_METAVAR
        )
        parser.add_argument("--lei", default="", help="ISO 17442 Legal Entity Identifier (optional)")

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        merchant = merchant_register(
            authority=authority,
            registration_number=options["registration_number"],
            legal_name=options["legal_name"],
            assurance=options["assurance"],
            lei=options["lei"].strip().upper(),
            user=self.user,
        )
        self.confirm(f"registered merchant {merchant.registration_number} under {merchant.authority.issuer}")
