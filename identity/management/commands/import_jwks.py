from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from accounts.models import Proposal
from core.commands import add_reason_argument, read_json_file
from identity.management.arguments import add_issuer_argument
from identity.selectors import authority_by_issuer
from identity.services.keys import key_register_many, proposed_kids


class Command(ActingCommand):
    help = "Register the public keys of a JWKS (or one JWK) file for an authority: all of them or none. Prints kids."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("path", type=Path, help='a JSON file: {"keys": [...]} or a single public JWK')
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        jwks = read_json_file(options["path"])
        result = key_register_many(authority=authority, jwks=jwks, user=self.user, reason=options["reason"])
        if isinstance(result, Proposal):
            for kid in proposed_kids(result):
                self.emit(kid)
            self.proposed(result)
            return
        for key in result:
            self.emit(key.kid)
