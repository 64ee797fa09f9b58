import base64
from typing import Any

from django.core.management.base import CommandError

from core.commands import RegistryCommand
from recognition.log.integrity import check_log


class Command(RegistryCommand):
    help = (
        "Check the audit log from its stored bytes: every leaf hash, the tree against every stored tile, every "
        "checkpoint's root and signature. Exit 0 when intact, non-zero naming the first bad leaf index."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Read-only and long on a big log: no transaction (on SQLite one would
        # hold the write lock and stall every verification meanwhile).
        report = check_log()
        root = base64.b64encode(report.root).decode("ascii")
        if not report.intact:
            raise CommandError(
                f"audit log broken at leaf {report.first_bad_seq}: {report.problem} ({report.size} leaves)"
            )
        self.stdout.write(f"audit log intact: {report.size} leaves, root {root}")
