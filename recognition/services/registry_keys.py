"""The registry's own signing key (DESIGN §8, §10): a PEM private key (EC P-256
or Ed25519) in the file REGISTRY_SIGNING_KEY names. Only its public half is
stored, so that /.well-known/jwks.json can keep publishing a rotated key
until every trust list it signed has expired."""

import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from identity.jose import thumbprint
from identity.services import public_jwk_of
from recognition.trust_models import RegistryKey


@dataclass(frozen=True)
class SigningKey:
    private_key: Any
    kid: str
    alg: str
    public_jwk: dict[str, str]


_cache: dict[tuple[str, int, int], SigningKey] = {}
_lock = threading.Lock()


def key_path() -> Path:
    return Path(settings.REGISTRY["SIGNING_KEY_PATH"])


def _describe(private_key: Any) -> SigningKey:
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        alg = "ES256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    else:
        raise ImproperlyConfigured("REGISTRY_SIGNING_KEY must hold an EC P-256 or an Ed25519 private key")
    jwk = public_jwk_of(private_key)
    kid = thumbprint(jwk)
    return SigningKey(
        private_key=private_key, kid=kid, alg=alg, public_jwk={**jwk, "kid": kid, "alg": alg, "use": "sig"}
    )


def _write_new_key(path: Path) -> None:
    """Generate a P-256 key into `path` atomically, mode 0600."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".registry-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> SigningKey:
    try:
        stat = path.stat()
        cache_key = (str(path), stat.st_mtime_ns, stat.st_ino)
        if cache_key in _cache:
            return _cache[cache_key]
        data = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"REGISTRY_SIGNING_KEY {path} cannot be read: {exc.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"REGISTRY_SIGNING_KEY {path} holds no unencrypted PEM private key") from None
    signing_key = _describe(private_key)
    _cache.clear()  # one key file at a time; a rotation replaces the file
    _cache[cache_key] = signing_key
    return signing_key


def signing_key() -> SigningKey:
    """The current key. In development a missing file is generated; in
    production a missing or unreadable key is a configuration error."""
    path = key_path()
    with _lock:
        if not path.exists():
            if not settings.DEBUG:
                raise ImproperlyConfigured(
                    f"REGISTRY_SIGNING_KEY {path} does not exist; create an EC P-256 or Ed25519 PEM key "
                    "(manage.py rotate_registry_key creates one)"
                )
            _write_new_key(path)
        key = _read(path)
    _publish(key)
    return key


def _publish(key: SigningKey) -> None:
    if not RegistryKey.objects.filter(kid=key.kid).exists():
        RegistryKey.objects.get_or_create(
            kid=key.kid, defaults={"alg": key.alg, "public_jwk": key.public_jwk, "created_at": timezone.now()}
        )


def published_keys() -> list[dict[str, str]]:
    """Public JWKs of the current key and of retired keys whose lists may
    still be in use."""
    now = timezone.now()
    keys = RegistryKey.objects.filter(Q(retired_at__isnull=True) | Q(publish_until__gt=now))
    return [key.public_jwk for key in keys]


@transaction.atomic
def registry_key_rotate() -> SigningKey:
    """Start signing with a new key; the old one stays published for one
    trust-list lifetime (every list it signed expires by then)."""
    path = key_path()
    old = _read(path) if path.exists() else None
    _write_new_key(path)
    with _lock:
        new = _read(path)
    now = timezone.now()
    lifetime = timedelta(seconds=settings.REGISTRY["TRUST_LIST_TTL_SECONDS"])
    if old is not None:
        _publish(old)
        RegistryKey.objects.filter(kid=old.kid, retired_at__isnull=True).update(
            retired_at=now, publish_until=now + lifetime
        )
    _publish(new)
    return new
