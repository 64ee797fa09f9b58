"""The registry's own signing key (DESIGN §8, §10): a PEM private key (EC P-256
or Ed25519) in the file REGISTRY_SIGNING_KEY names (recognition/key_files.py).
Only its public half is stored, so that /.well-known/jwks.json can keep
publishing a rotated key until every trust list it signed has expired.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from identity.jose.jwk import public_members, thumbprint
from identity.jose.key_files import public_jwk_of
from recognition.key_files import PemKeyFile, kind_of
from recognition.models import RegistryKey

SETTING = "REGISTRY_SIGNING_KEY"
ALGORITHMS = ("ES256", "EdDSA")


@dataclass(frozen=True)
class SigningKey:
    private_key: Any
    kid: str
    alg: str
    public_jwk: dict[str, str]


def _describe(private_key: Any, path: Path) -> SigningKey:
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        alg = "ES256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    else:
        raise ImproperlyConfigured(
            f"{SETTING} {path} holds {kind_of(private_key)}; the registry signs with an EC P-256 or an Ed25519 key only"
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


KEY_FILE = PemKeyFile(
    setting=SETTING,
    path_of=lambda: settings.REGISTRY["SIGNING_KEY_PATH"],
    describe=_describe,
    generate=lambda: _new_private_key("ES256"),
    expected="EC P-256 or Ed25519",
    rotate_command="rotate_registry_key",
)


def key_path() -> Path:
    return KEY_FILE.path()


def load_signing_key(*, create: bool | None = None) -> SigningKey:
    """The current key, from the file alone (no database); generated in
    development when missing (recognition/key_files.py)."""
    return KEY_FILE.load(create=create)


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
    published until every list it signed has expired (rotation + TTL). A key
    file that exists but cannot be read as a key is refused, never
    overwritten: it may be the only copy of key material."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {', '.join(ALGORITHMS)}")
    old, new = KEY_FILE.replace(_new_private_key(alg))
    if old is not None:
        _publish(old)  # a key that signed before ever being recorded is retired like the others
    _publish(new)
    return new
