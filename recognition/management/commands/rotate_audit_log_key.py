from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from core.commands import RegistryCommand
from recognition.log.keys import KEY_FILE, rotate_log_key


class Command(RegistryCommand):
    help = (
        "Create the audit log's key (AUDIT_LOG_KEY, Ed25519, mode 0600), or replace it: the old public key stays "
        "listed as retired, and checkpoints it signed stay verifiable. Prints the new vkey."
    )

    def run(self, **options: Any) -> None:
        try:
            key = rotate_log_key()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.emit(key.vkey)
        self.confirm(f"{KEY_FILE.path()} now holds the log key {key.key_id.hex()} of {key.name}")
