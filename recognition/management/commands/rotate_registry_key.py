from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from core.commands import RegistryCommand
from recognition.models import RegistryKey
from recognition.services.registry_keys import ALGORITHMS, key_path, registry_key_rotate


class Command(RegistryCommand):
    help = (
        "Start signing trust lists with a new registry key (written to REGISTRY_SIGNING_KEY, mode 0600); "
        "the old key stays in /.well-known/jwks.json until every list it signed has expired. Prints the new kid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alg", choices=ALGORITHMS, default="ES256", help="the new key's algorithm (ES256)")

    def run(self, **options: Any) -> None:
        try:
            new = registry_key_rotate(alg=options["alg"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.emit(new.kid)
        self.confirm(f"{key_path()} now holds the {new.alg} key {new.kid}")
        still_published = RegistryKey.objects.exclude(kid=new.kid).filter(publish_until__gt=timezone.now())
        for retired in still_published.order_by("publish_until"):
            self.confirm(f"retired key {retired.kid} stays published until {retired.publish_until:%Y-%m-%dT%H:%M:%SZ}")
