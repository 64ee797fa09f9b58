from typing import Any

from django.core.management.base import CommandParser

from accounts.commands import ActingCommand
from core.commands import add_reason_argument
from recognition.models import AgreementStatus
from recognition.services.agreements import agreement_by_id, agreement_set_status


class Command(ActingCommand):
    help = "Activate, suspend or terminate a recognition agreement (termination is final)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agreement_id", type=int, metavar="ID")
        parser.add_argument(
            "status", choices=[status for status in AgreementStatus.values if status != AgreementStatus.DRAFT]
        )
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        agreement = agreement_by_id(options["agreement_id"])
        self.require_owned(agreement.destination)
        result = agreement_set_status(
            agreement=agreement, status=options["status"], user=self.user, reason=options["reason"]
        )
        if not self.proposed(result):
            self.confirm(f"agreement {result.pk} is now {result.status}")
