from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from identity.management.arguments import add_issuer_argument
from identity.selectors import authority_by_issuer, credential_by_jti
from identity.services.credentials import credential_reinstate


class Command(ActingCommand):
    help = "Reinstate a suspended credential the registry issued, by its jti (valid again at once)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("jti")
        parser.add_argument("--reason", default="", help="why it is reinstated (kept in its history)")

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        credential = credential_by_jti(authority, options["jti"])
        credential = credential_reinstate(credential=credential, reason=options["reason"], user=self.user)
        self.confirm(f"credential {credential.jti} reinstated")
