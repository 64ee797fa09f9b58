"""Authorities' public keys: registered after key intake (identity.jose.jwk),
generated with the private half written to a file, retired, marked
compromised (final). Keys are never deleted."""

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.changes import User, locked, save_with_history, transition, with_reason
from identity.jose.jwk import KeyIntakeError, parse_public_jwk, thumbprint
from identity.jose.key_files import generate_private_key, public_jwk_of, write_private_key
from identity.models import Authority, AuthorityKey, KeyStatus


@transaction.atomic
def key_register(
    *,
    authority: Authority,
    jwk: Any,
    alg: str | None = None,
    kid: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    user: User = None,
    reason: str = "",
) -> AuthorityKey:
    """Register one public key after key intake (DESIGN §3). `not_before`
    defaults to the moment of registration."""
    try:
        public = parse_public_jwk(jwk, alg=alg, kid=kid)
    except KeyIntakeError as exc:
        raise ValidationError(str(exc)) from None
    if AuthorityKey.objects.filter(authority=authority, kid=public.kid).exists():
        raise ValidationError(f"authority {authority.issuer} already has a key with kid {public.kid!r}")
    for existing in AuthorityKey.objects.filter(authority=authority).only("public_jwk"):
        if thumbprint(existing.public_jwk) == public.thumbprint:
            raise ValidationError(f"this key is already registered for {authority.issuer} as kid {existing.kid!r}")
    key = AuthorityKey(
        authority=authority,
        kid=public.kid,
        alg=public.alg,
        public_jwk=public.jwk,
        # Whole seconds: credentials carry iat in seconds, and one issued in
        # the same second as registration must fall inside the key's window.
        not_before=not_before or timezone.now().replace(microsecond=0),
        not_after=not_after,
    )
    save_with_history(key, user=user, reason=with_reason("registered", reason))
    return key


@transaction.atomic
def key_register_many(*, authority: Authority, jwks: Any, user: User = None, reason: str = "") -> list[AuthorityKey]:
    """Register every key of a JWKS, or none of them."""
    if isinstance(jwks, dict) and "keys" in jwks:
        keys = jwks["keys"]
    elif isinstance(jwks, dict) and "kty" in jwks:
        keys = [jwks]
    else:
        raise ValidationError('expected a JWK or a JWKS ({"keys": [...]})')
    if not isinstance(keys, list) or not keys:
        raise ValidationError("the JWKS 'keys' must be a non-empty list")
    registered = []
    for index, jwk in enumerate(keys):
        try:
            registered.append(key_register(authority=authority, jwk=jwk, user=user, reason=reason))
        except ValidationError as exc:
            raise ValidationError(f"key {index + 1} of {len(keys)}: {'; '.join(exc.messages)}") from None
    return registered


def key_generate(
    *, authority: Authority, alg: str, private_key_out: Path, user: User = None, reason: str = ""
) -> AuthorityKey:
    """Generate a key pair, write the private half to `private_key_out` (mode
    0600) and register the public half. Nothing is kept if either step fails,
    and a file this call did not create is never removed: an existing file is
    refused (O_EXCL) and left as it was, whatever fails."""
    private_key = generate_private_key(alg)
    private_key_out = Path(private_key_out)
    written = False
    try:
        with transaction.atomic():
            key = key_register(authority=authority, jwk=public_jwk_of(private_key), alg=alg, user=user, reason=reason)
            write_private_key(private_key, private_key_out)
            written = True
    except BaseException:
        # The registration was rolled back: the file must not outlive it.
        if written:
            private_key_out.unlink(missing_ok=True)
        raise
    return key


KEY_TRANSITIONS = {
    KeyStatus.ACTIVE: {KeyStatus.RETIRED, KeyStatus.COMPROMISED},
    KeyStatus.RETIRED: {KeyStatus.COMPROMISED},
    KeyStatus.COMPROMISED: set(),
}


@transaction.atomic
def key_retire(*, key: AuthorityKey, user: User = None, at: datetime | None = None, reason: str = "") -> AuthorityKey:
    """Stop issuing with a key; its earlier credentials stay valid until they
    expire (DESIGN §5 key_not_valid_at_issuance)."""
    key = locked(AuthorityKey, key.pk)
    transition(key, to=KeyStatus.RETIRED, allowed=KEY_TRANSITIONS, what=f"key {key.kid}")
    key.retired_at = at or timezone.now()
    save_with_history(key, user=user, reason=with_reason("retired", reason))
    return key


@transaction.atomic
def key_mark_compromised(
    *, key: AuthorityKey, user: User = None, at: datetime | None = None, reason: str = ""
) -> AuthorityKey:
    """Refuse every credential the key ever signed (DESIGN §5 key_compromised)."""
    key = locked(AuthorityKey, key.pk)
    transition(key, to=KeyStatus.COMPROMISED, allowed=KEY_TRANSITIONS, what=f"key {key.kid}")
    key.compromised_at = at or timezone.now()
    save_with_history(key, user=user, reason=with_reason("compromised", reason))
    return key
