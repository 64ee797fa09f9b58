"""The registry's own signing key (DESIGN §8, §10): a PEM private key (EC P-256
or Ed25519) in the file REGISTRY_SIGNING_KEY names. Only its public half is
stored, so that /.well-known/jwks.json can keep publishing a rotated key
until every trust list it signed has expired.

The file is the one source of the current key. Every use stats it and the
parsed key is cached by (path, mtime_ns, inode), so when `rotate_registry_key`
replaces the file (atomically, by rename) every worker process signs with the
new key from its next list on, without a restart.
"""

import os
import stat
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from identity.jose.jwk import public_members, thumbprint
from identity.jose.key_files import public_jwk_of
from recognition.models import RegistryKey

SETTING = "REGISTRY_SIGNING_KEY"
ALGORITHMS = ("ES256", "EdDSA")
MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class SigningKey:
    private_key: Any
    kid: str
    alg: str
    public_jwk: dict[str, str]


_cache: dict[tuple[str, int, int], SigningKey] = {}
_lock = threading.Lock()


def key_path() -> Path:
    value = str(settings.REGISTRY["SIGNING_KEY_PATH"])
    if not value.strip():
        raise ImproperlyConfigured(f"{SETTING} is empty; set it to the path of the registry's PEM private key")
    return Path(value)


def _kind(private_key: Any) -> str:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return f"an RSA key ({private_key.key_size} bits)"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return f"an EC key on {private_key.curve.name}"
    return "a key of an unsupported type"


def _describe(private_key: Any, path: Path) -> SigningKey:
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        alg = "ES256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    else:
        raise ImproperlyConfigured(
            f"{SETTING} {path} holds {_kind(private_key)}; the registry signs with an EC P-256 or an Ed25519 key only"
        )
    jwk = public_jwk_of(private_key)
    kid = thumbprint(jwk)
    return SigningKey(
        private_key=private_key, kid=kid, alg=alg, public_jwk={**jwk, "kid": kid, "alg": alg, "use": "sig"}
    )


def _new_private_key(alg: str) -> Any:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _write_key_file(path: Path, private_key: Any, *, replace: bool) -> bool:
    """Write a PEM (PKCS#8) key into `path` atomically, mode 0600 from the
    first byte (mkstemp). `replace=False` never overwrites: it returns False
    when another process created the file first, and that file is kept."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".registry-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)  # readers see the old file or the new one, never half of one
            return True
        try:
            os.link(temporary, path)  # fails if the file exists: no-overwrite creation
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


def _load(path: Path) -> SigningKey:
    """The key in `path`; FileNotFoundError passes through, every other
    problem is an ImproperlyConfigured naming REGISTRY_SIGNING_KEY."""
    try:
        info = path.stat()
        cache_key = (str(path), info.st_mtime_ns, info.st_ino)
        if cache_key in _cache:
            return _cache[cache_key]
        if not stat.S_ISREG(info.st_mode):
            raise ImproperlyConfigured(f"{SETTING} {path} is not a regular file")
        if info.st_size > MAX_KEY_FILE_BYTES:
            raise ImproperlyConfigured(f"{SETTING} {path} is too large to be a PEM private key")
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ImproperlyConfigured(f"{SETTING} {path} cannot be read: {exc.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's own message is not echoed: it may quote the file.
        raise ImproperlyConfigured(
            f"{SETTING} {path} holds no unencrypted PEM private key (expected EC P-256 or Ed25519, PKCS#8 or SEC 1)"
        ) from None
    signing_key = _describe(private_key, path)
    _cache.clear()  # one key file at a time; a rotation replaces the file
    _cache[cache_key] = signing_key
    return signing_key


def _missing(path: Path) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{SETTING} {path} does not exist; create an EC P-256 or Ed25519 PEM private key there "
        "(`manage.py rotate_registry_key` creates one), or point REGISTRY_SIGNING_KEY at yours"
    )


def load_signing_key(*, create: bool | None = None) -> SigningKey:
    """The current key, from the file alone (no database). A missing file is
    generated when `create` (default: in development, DEBUG on) and is a
    configuration error otherwise."""
    path = key_path()
    create = settings.DEBUG if create is None else create
    with _lock:
        try:
            return _load(path)
        except FileNotFoundError:
            if not create:
                raise _missing(path) from None
        try:
            _write_key_file(path, _new_private_key("ES256"), replace=False)
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{SETTING} {path} does not exist and cannot be created: {exc.strerror}"
            ) from None
        try:
            return _load(path)
        except FileNotFoundError:
            raise _missing(path) from None


def _lifetime() -> timedelta:
    return timedelta(seconds=settings.REGISTRY["TRUST_LIST_TTL_SECONDS"])


def _publish(key: SigningKey) -> None:
    """Record the public half of the current key. The first time a key is
    seen, every other unretired key is retired and stays published for one
    trust-list lifetime: this covers a rotation by the command and a key file
    replaced by hand alike. The instant is read after the new file was in
    place, and lists read their `iat` before loading the key, so every list
    an old key signed expires by its `publish_until`."""
    if RegistryKey.objects.filter(kid=key.kid).exists():
        return
    with transaction.atomic():
        now = timezone.now()
        _, created = RegistryKey.objects.get_or_create(
            kid=key.kid, defaults={"alg": key.alg, "public_jwk": public_members(key.public_jwk), "created_at": now}
        )
        if created:
            RegistryKey.objects.filter(retired_at__isnull=True).exclude(kid=key.kid).update(
                retired_at=now, publish_until=now + _lifetime()
            )


def signing_key() -> SigningKey:
    """The key trust lists are signed with now, its public half published."""
    key = load_signing_key()
    _publish(key)
    return key


def published_keys() -> list[dict[str, str]]:
    """Public JWKs of the current key, then of retired keys whose lists may
    still be in use (publish_until not yet reached), newest first."""
    current = signing_key()
    others = (
        RegistryKey.objects.exclude(kid=current.kid)
        .filter(Q(retired_at__isnull=True) | Q(publish_until__gt=timezone.now()))
        .order_by("-created_at", "-id")
    )
    return [public_members(current.public_jwk), *(public_members(row.public_jwk) for row in others)]


@transaction.atomic
def registry_key_rotate(*, alg: str = "ES256") -> SigningKey:
    """Start signing with a new key (DESIGN §7 trust lists); the old one stays
    published until every list it signed has expired (rotation + TTL).

    A key file that exists but cannot be read as a key is refused, never
    overwritten: it may be the only copy of key material."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {', '.join(ALGORITHMS)}")
    path = key_path()
    with _lock:
        try:
            old = _load(path)
        except FileNotFoundError:
            old = None
        if old is not None:
            _publish(old)  # a key that signed before ever being recorded is retired like the others
        try:
            _write_key_file(path, _new_private_key(alg), replace=True)
        except OSError as exc:
            raise ImproperlyConfigured(f"{SETTING} {path} cannot be written: {exc.strerror}") from None
        new = _load(path)
    _publish(new)
    return new
