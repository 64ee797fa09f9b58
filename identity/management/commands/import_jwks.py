from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from core.commands import RegistryCommand, read_json_file
from identity.management.arguments import add_issuer_argument
from identity.selectors import authority_by_issuer
from identity.services.keys import key_register_many


class Command(RegistryCommand):
    help = "Register the public keys of a JWKS (or one JWK) file for an authority: all of them or none. Prints kids."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("path", type=Path, help='a JSON file: {"keys": [...]} or a single public JWK')

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        jwks = read_json_file(options["path"])
        for key in key_register_many(authority=authority, jwks=jwks):
            self.emit(key.kid)
