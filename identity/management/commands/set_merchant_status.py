from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import add_reason_argument
from identity.management.arguments import add_issuer_argument
from identity.models import MerchantStatus
from identity.selectors import authority_by_issuer, merchant_by_number
from identity.services.merchants import merchant_set_status


class Command(ActingCommand):
    help = "Reinstate, suspend or revoke a merchant (revocation is final)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("registration_number", metavar="REGNO")
        parser.add_argument("status", choices=MerchantStatus.values)
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        merchant = merchant_by_number(authority_by_issuer(options["issuer"]), options["registration_number"])
        self.require_owned(merchant.authority.country)
        merchant = merchant_set_status(
            merchant=merchant, status=options["status"], user=self.user, reason=options["reason"]
        )
        self.confirm(f"merchant {merchant.registration_number} is now {merchant.status}")
