from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import add_reason_argument
from identity.management.arguments import add_issuer_argument, add_kid_argument
from identity.selectors import authority_by_issuer, key_by_kid
from identity.services.keys import key_mark_compromised


class Command(ActingCommand):
    help = "Mark an authority's key compromised: every credential it ever signed is refused from now on."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        add_kid_argument(parser)
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        key = key_by_kid(authority_by_issuer(options["issuer"]), options["kid"])
        self.require_owned(key.authority.country)
        key = key_mark_compromised(key=key, user=self.user, reason=options["reason"])
        self.confirm(f"key {key.kid} marked compromised")
