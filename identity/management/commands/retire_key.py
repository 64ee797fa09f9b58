from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import add_reason_argument
from identity.management.arguments import add_issuer_argument, add_kid_argument
from identity.selectors import authority_by_issuer, key_by_kid
from identity.services.keys import key_retire


class Command(ActingCommand):
    help = "Retire an authority's key: it signs nothing new; its earlier credentials stay valid until they expire."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        add_kid_argument(parser)
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        key = key_by_kid(authority_by_issuer(options["issuer"]), options["kid"])
        self.require_owned(key.authority.country)
        key = key_retire(key=key, user=self.user, reason=options["reason"])
        self.confirm(f"key {key.kid} retired at {key.retired_at:%Y-%m-%dT%H:%M:%SZ}")
