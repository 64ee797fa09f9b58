"""`manage.py load_demo`: the idempotent demo data of a first run (DESIGN §7)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from recognition.demo import format_report, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo data: China and eight Silk Road e-commerce partner countries, fictional authorities, "
        "DEMO-ONLY keys, merchants, credentials, agreements and demo accounts. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_demo()
        except ValidationError as exc:
            raise CommandError(f"load_demo wrote nothing: {'; '.join(exc.messages)}") from None
        self.stdout.write(format_report(report))
