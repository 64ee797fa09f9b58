from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from accounts.models import Proposal
from core.commands import add_reason_argument, parse_code_list, parse_country, parse_datetime_utc
from identity.management.arguments import ASSURANCE_METAVAR, parse_assurance
from identity.selectors import authority_by_issuer, credential_type_by_code
from recognition.services.agreements import agreement_create


class Command(ActingCommand):
    help = (
        "Create a recognition agreement: DESTINATION recognizes a foreign authority for credential types. "
        "A draft unless --activate. Dates are ISO 8601 in UTC. Prints the id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--destination", required=True, type=parse_country, metavar="COUNTRY", help="the recognizing country"
        )
        parser.add_argument("--issuer", required=True, help="the recognized foreign authority's issuer")
        parser.add_argument(
            "--types", required=True, type=parse_code_list, metavar="CODE[,CODE...]", help="credential type codes"
        )
        parser.add_argument("--min-assurance", required=True, type=parse_assurance, metavar=ASSURANCE_METAVAR)
        parser.add_argument("--legal-basis", required=True, metavar="TEXT", help="required before activation")
        parser.add_argument("--valid-from", type=parse_datetime_utc, metavar="DATE", help="default: now")
        parser.add_argument("--valid-until", type=parse_datetime_utc, metavar="DATE", help="default: open-ended")
        parser.add_argument("--activate", action="store_true", help="activate at once instead of leaving a draft")
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        self.require_owned(options["destination"])
        result = agreement_create(
            destination=options["destination"],
            authority=authority_by_issuer(options["issuer"]),
            credential_types=[credential_type_by_code(code) for code in options["types"]],
            min_assurance=options["min_assurance"],
            legal_basis=options["legal_basis"],
            valid_from=options["valid_from"],
            valid_until=options["valid_until"],
            activate=options["activate"],
            user=self.user,
            reason=options["reason"],
        )
        if isinstance(result, Proposal):
            # The draft is made; its activation awaits approval.
            self.emit(result.target_id)
            self.proposed(result)
            return
        self.emit(result.pk)
        self.confirm(f"agreement {result.pk}: {result}")
