from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from recognition.services.witnesses import witness_by_name, witness_retire


class Command(ActingCommand):
    help = "Take a witness out of service: no more checkpoints are sent to it and its cosignatures no longer count."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME")

    def run(self, **options: Any) -> None:
        self.require_operator("witnesses serve every country")
        witness = witness_retire(witness=witness_by_name(options["name"]), user=self.user)
        self.confirm(f"witness {witness.name} retired at {witness.retired_at.isoformat()}")
