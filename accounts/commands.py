"""`--as USER` for the commands that change registry rows (README, Four-eyes
approval). Without it a command acts as the registry operator (the person at
the server's shell, recorded by their OS login: core.history). With it the
change is made as that user: in their history, within their country's scope
(accounts.scope), and a country administrator's widening of trust becomes a
proposal, told on stderr."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from accounts.models import Proposal
from accounts.scope import country_code, scope_of
from core.commands import RegistryCommand


def acting_user(username: str | None) -> Any:
    """The active user with a role named by `--as`, or None without `--as`."""
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--as: no user is named {username!r}")
    if not user.is_active:
        raise CommandError(f"--as: user {username!r} is inactive")
    scope = scope_of(user)
    if scope.role is None:
        raise CommandError(f"--as: user {username!r} has no role in the registry")
    if not scope.writes:
        raise CommandError(f"--as: {username} is a regulator, who changes nothing")
    return user


class ActingCommand(RegistryCommand):
    """A command with `--as USER`: `self.user` is that user, or None for the
    registry operator."""

    user: Any = None

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="make the change as this user (default: the registry operator, recorded by OS login)",
        )
        return parser

    def prepare(self, **options: Any) -> None:
        self.user = acting_user(options.get("as_user"))

    def require_owned(self, country: object) -> None:
        """Refuse a change of another country's rows when acting as a user."""
        if self.user is None:
            return
        scope = scope_of(self.user)
        if not scope.owns(country):
            raise CommandError(f"{self.user} administers {scope.country}, not {country_code(country)}")

    def require_operator(self, what: str) -> None:
        """Refuse what only the registry operator or the superuser does."""
        if self.user is not None and not scope_of(self.user).is_superuser:
            raise CommandError(f"{what}: only the registry operator or the superuser does this, not {self.user}")

    def proposed(self, result: object) -> bool:
        """Tell on stderr that `result` is a proposal awaiting approval."""
        if not isinstance(result, Proposal):
            return False
        self.stderr.write(f"proposal #{result.pk} awaits approval by another administrator: {result.summary}")
        return True
