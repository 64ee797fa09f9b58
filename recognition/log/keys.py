"""The audit log's key (DESIGN §6): an Ed25519 PEM private key in the file
AUDIT_LOG_KEY names, handled like the registry's other key files
(recognition/key_files.py: generated in development, required in production,
replaced atomically by `rotate_audit_log_key`). It signs checkpoints
(signed-note, key name = the log's origin) and receipts.

Only its public half is recorded (LogPublicKey), so that `GET key` keeps
listing a rotated key as retired: the checkpoints it signed stay verifiable.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from recognition.key_files import PemKeyFile, kind_of
from recognition.log.notes import ED25519, key_id, vkey
from recognition.models import LogPublicKey

SETTING = "AUDIT_LOG_KEY"


@dataclass(frozen=True)
class LogKey:
    private_key: ed25519.Ed25519PrivateKey
    public_key: bytes  # 32 bytes
    name: str  # the log's origin
    key_id: bytes  # 4 bytes (signed-note)
    vkey: str


def origin() -> str:
    return settings.AUDIT_LOG["ORIGIN"]


def _describe(private_key: Any, path: Path) -> ed25519.Ed25519PrivateKey:
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{SETTING} {path} holds {kind_of(private_key)}; the audit log signs with Ed25519")
    return private_key


KEY_FILE = PemKeyFile(
    setting=SETTING,
    path_of=lambda: settings.AUDIT_LOG["KEY_PATH"],
    describe=_describe,
    generate=ed25519.Ed25519PrivateKey.generate,
    expected="Ed25519",
    rotate_command="rotate_audit_log_key",
)


def _raw_public(private_key: ed25519.Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


_described: dict[tuple[int, str], LogKey] = {}


def _log_key(private_key: ed25519.Ed25519PrivateKey) -> LogKey:
    name = origin()
    found = _described.get((id(private_key), name))
    if found is None or found.private_key is not private_key:
        public = _raw_public(private_key)
        found = LogKey(private_key, public, name, key_id(name, ED25519, public), vkey(name, public))
        _described.clear()
        _described[(id(private_key), name)] = found
    return found


def log_key(*, create: bool | None = None) -> LogKey:
    """The key the log signs with now, from the file alone (no database)."""
    return _log_key(KEY_FILE.load(create=create))


def publish(key: LogKey) -> None:
    """Record the public half of the current key; the first time a key is
    seen, every other key still current is retired."""
    if LogPublicKey.objects.filter(name=key.name, public_key=key.public_key).exists():
        return
    with transaction.atomic():
        now = timezone.now()
        _, created = LogPublicKey.objects.get_or_create(
            name=key.name, public_key=key.public_key, defaults={"created_at": now}
        )
        if created:
            current = LogPublicKey.objects.filter(retired_at__isnull=True).exclude(
                name=key.name, public_key=key.public_key
            )
            for row in current:
                row.retired_at = now
                row.save(update_fields=["retired_at"])


def published_vkeys() -> list[str]:
    """The verifier keys of the log, one a line: the current one first, then
    the retired ones, newest first."""
    current = log_key()
    publish(current)
    others = LogPublicKey.objects.exclude(name=current.name, public_key=current.public_key)
    return [current.vkey, *(vkey(row.name, bytes(row.public_key)) for row in others)]


def rotate_log_key() -> LogKey:
    """Create the key, or replace it: the old one's public half stays listed
    (retired). A file that exists but is not a key is refused, never
    overwritten."""
    old, new = KEY_FILE.replace(ed25519.Ed25519PrivateKey.generate())
    if old is not None:
        publish(_log_key(old))
    key = _log_key(new)
    publish(key)
    return key
