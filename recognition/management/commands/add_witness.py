from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import parse_country
from recognition.services.witnesses import witness_add


class Command(ActingCommand):
    help = (
        "Register a witness (DESIGN §11): its name (the key name of its vkey), its country, the URL the registry "
        "POSTs <URL>/add-checkpoint to (https, or http on a loopback address) and its vkey of type 0x04."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--country", required=True, type=parse_country, metavar="CN")
        parser.add_argument("--url", required=True, metavar="URL")
        parser.add_argument("--vkey", required=True, metavar="VKEY")

    def run(self, **options: Any) -> None:
        self.require_operator("witnesses serve every country")
        witness = witness_add(
            name=options["name"], country=options["country"], url=options["url"], vkey=options["vkey"], user=self.user
        )
        self.emit(witness.name)
        self.confirm(f"witness {witness.name} ({witness.country.code}) registered; checkpoints go to {witness.url}")
