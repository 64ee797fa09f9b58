from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from identity.jose.key_files import load_private_key
from identity.management.arguments import ASSURANCE_METAVAR, add_issuer_argument, parse_assurance
from identity.selectors import authority_by_issuer, credential_type_by_code, merchant_by_number
from identity.services.credentials import credential_issue


class Command(ActingCommand):
    help = "Sign a merchant credential (DESIGN §4) with an authority's private key and record it. Prints the JWT."

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("registration_number", metavar="REGNO")
        parser.add_argument("--private-key", required=True, type=Path, metavar="PATH", help="PEM or private JWK")
        parser.add_argument(
            "--kid",
            help="the key to sign with (default: the one matching the file); write --kid=-KID if it begins with '-'",
        )
        parser.add_argument("--type", default="merchant-identity", dest="credential_type", metavar="CODE")
        parser.add_argument(
            "--assurance", type=parse_assurance, metavar=ASSURANCE_METAVAR, help="default: the merchant's"
        )
        parser.add_argument("--days", type=int, default=365, help="lifetime in days (default: 365)")

    def run(self, **options: Any) -> None:
        # The file first: a key file that is not a key is the operator's input
        # error, whatever the database holds.
        private_key = load_private_key(options["private_key"])
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        merchant = merchant_by_number(authority, options["registration_number"])
        credential_type = credential_type_by_code(options["credential_type"])
        issued = credential_issue(
            merchant=merchant,
            private_key=private_key,
            credential_type=credential_type,
            kid=options["kid"],
            assurance=options["assurance"],
            days=options["days"],
            user=self.user,
        )
        self.emit(issued.token)
        self.confirm(
            f"issued credential {issued.credential.jti}, expires {issued.credential.expires_at:%Y-%m-%dT%H:%M:%SZ}"
        )
