from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from accounts.models import Proposal
from core.commands import add_reason_argument
from identity.jose.algorithms import Alg
from identity.management.arguments import add_issuer_argument
from identity.selectors import authority_by_issuer
from identity.services.keys import key_generate, proposed_kids


class Command(ActingCommand):
    help = (
        "Generate a signing key pair for an authority: the public key is registered, the private key is "
        "written to a new file of mode 0600 (never overwritten). Prints the kid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("--alg", required=True, choices=Alg.values)
        parser.add_argument("--private-key-out", required=True, type=Path, metavar="PATH")
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        result = key_generate(
            authority=authority,
            alg=options["alg"],
            private_key_out=options["private_key_out"],
            user=self.user,
            reason=options["reason"],
        )
        if isinstance(result, Proposal):
            self.emit(proposed_kids(result)[0])
            self.proposed(result)
        else:
            self.emit(result.kid)
        self.confirm(f"private key written to {options['private_key_out']} (mode 0600); keep it off this server")
