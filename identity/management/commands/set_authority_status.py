from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import add_reason_argument
from identity.management.arguments import add_issuer_argument
from identity.models import AuthorityStatus
from identity.selectors import authority_by_issuer
from identity.services.authorities import authority_set_status


class Command(ActingCommand):
    help = "Activate, suspend or revoke an authority (revocation is final)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("status", choices=AuthorityStatus.values)
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        result = authority_set_status(
            authority=authority, status=options["status"], user=self.user, reason=options["reason"]
        )
        if not self.proposed(result):
            self.confirm(f"authority {result.issuer} is now {result.status}")
