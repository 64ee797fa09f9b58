from typing import Any

from django.core.management.base import CommandParser

from core.commands import RegistryCommand, add_reason_argument
from identity.management.arguments import add_issuer_argument
from identity.models import AuthorityStatus
from identity.selectors import authority_by_issuer
from identity.services.authorities import authority_set_status


class Command(RegistryCommand):
    help = "Activate, suspend or revoke an authority (revocation is final)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("status", choices=AuthorityStatus.values)
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        authority = authority_set_status(
            authority=authority_by_issuer(options["issuer"]), status=options["status"], reason=options["reason"]
        )
        self.confirm(f"authority {authority.issuer} is now {authority.status}")
