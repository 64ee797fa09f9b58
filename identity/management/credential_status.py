"""The commands that change a registry-issued credential's status
(`revoke_credential`, `suspend_credential`, `reinstate_credential`): the
same arguments, the same owner check, one service each."""

from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from identity.management.arguments import add_issuer_argument
from identity.models import IssuedCredential
from identity.selectors import authority_by_issuer, credential_by_jti


class CredentialStatusCommand(ActingCommand):
    change: Callable[..., IssuedCredential]  # the service: credential=, reason=, user=
    done: str  # "revoked", as in "credential <jti> revoked"
    reason_help: str

    def add_arguments(self, parser: CommandParser) -> None:
        add_issuer_argument(parser)
        parser.add_argument("jti")
        parser.add_argument("--reason", default="", help=self.reason_help)

    def run(self, **options: Any) -> None:
        authority = authority_by_issuer(options["issuer"])
        self.require_owned(authority.country)
        credential = credential_by_jti(authority, options["jti"])
        credential = self.change(credential=credential, reason=options["reason"], user=self.user)
        self.confirm(f"credential {credential.jti} {self.done}")
