from typing import Any

from django.core.management.base import CommandError

from core.commands import RegistryCommand
from recognition.services.audit import check_chain


class Command(RegistryCommand):
    help = "Recompute the audit hash chain; exit 0 when intact, non-zero naming the first broken seq."

    def handle(self, *args: Any, **options: Any) -> None:
        # Read-only and long on a big log: no transaction (on SQLite one would
        # hold the write lock and stall every verification meanwhile).
        report = check_chain()
        if not report.intact:
            raise CommandError(f"audit chain broken at seq {report.first_broken_seq} ({report.records} records)")
        self.stdout.write(f"audit chain intact: {report.records} records, head {report.head}")
