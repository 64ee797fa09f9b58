from typing import Any

from django.core.management.base import CommandParser

from core.commands import RegistryCommand, add_reason_argument
from recognition.models import AgreementStatus
from recognition.services.agreements import agreement_by_id, agreement_set_status


class Command(RegistryCommand):
    help = "Activate, suspend or terminate a recognition agreement (termination is final)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agreement_id", type=int, metavar="ID")
        parser.add_argument(
            "status", choices=[status for status in AgreementStatus.values if status != AgreementStatus.DRAFT]
        )
        add_reason_argument(parser)

    def run(self, **options: Any) -> None:
        agreement = agreement_set_status(
            agreement=agreement_by_id(options["agreement_id"]), status=options["status"], reason=options["reason"]
        )
        self.confirm(f"agreement {agreement.pk} is now {agreement.status}")
