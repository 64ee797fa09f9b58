"""Authorities' public keys: registered after key intake (identity.jose.jwk),
generated with the private half written to a file, retired, marked
compromised (final). Keys are never deleted."""

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Proposal
from accounts.proposals import proposal_needed, propose, register_executor
from core.changes import User, locked, save_with_history, transition, with_reason
from identity.jose.jwk import KeyIntakeError, PublicKey, parse_public_jwk, thumbprint
from identity.jose.key_files import generate_private_key, public_jwk_of, write_private_key
from identity.models import Authority, AuthorityKey, KeyStatus

# The proposal a country administrator's key registration becomes (accounts.proposals).
REGISTER_KEYS = "key.register"


def _intake(authority: Authority, jwk: Any, *, alg: str | None, kid: str | None, lot: dict[str, str]) -> PublicKey:
    """Key intake (DESIGN §3) and the refusal of a kid or key the authority
    already has, or that an earlier key of the same lot (kid -> thumbprint) has."""
    try:
        public = parse_public_jwk(jwk, alg=alg, kid=kid)
    except KeyIntakeError as exc:
        raise ValidationError(str(exc)) from None
    if public.kid in lot:
        raise ValidationError(f"kid {public.kid!r} is already in the lot")
    if AuthorityKey.objects.filter(authority=authority, kid=public.kid).exists():
        raise ValidationError(f"authority {authority.issuer} already has a key with kid {public.kid!r}")
    known = [(existing.kid, existing.public_jwk) for existing in authority.keys.only("kid", "public_jwk")]
    for existing_kid, existing_jwk in known:
        if thumbprint(existing_jwk) == public.thumbprint:
            raise ValidationError(f"this key is already registered for {authority.issuer} as kid {existing_kid!r}")
    for lot_kid, lot_thumbprint in lot.items():
        if lot_thumbprint == public.thumbprint:
            raise ValidationError(f"this key is already in the lot as kid {lot_kid!r}")
    lot[public.kid] = public.thumbprint
    return public


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _propose_keys(authority: Authority, entries: list[dict[str, Any]], *, user: User, reason: str) -> Proposal:
    """One proposal for a lot of keys, each checked as its registration would be."""
    lot: dict[str, str] = {}
    keys = []
    for index, entry in enumerate(entries):
        try:
            public = _intake(authority, entry["jwk"], alg=entry.get("alg"), kid=entry.get("kid"), lot=lot)
        except ValidationError as exc:
            if len(entries) == 1:
                raise
            raise ValidationError(f"key {index + 1} of {len(entries)}: {'; '.join(exc.messages)}") from None
        keys.append(
            {
                "jwk": public.jwk,
                "alg": public.alg,
                "kid": public.kid,
                "not_before": _instant(entry.get("not_before")),
                "not_after": _instant(entry.get("not_after")),
            }
        )
    kids = ", ".join(key["kid"] for key in keys)
    noun = "key" if len(keys) == 1 else f"{len(keys)} keys"
    return propose(
        action=REGISTER_KEYS,
        country=authority.country,
        target=authority,
        payload={"keys": keys},
        summary=f"Register {noun} of {authority.name} ({authority.country.code}): {kids}",
        reason=reason,
        user=user,
    )


def proposed_kids(proposal: Proposal) -> list[str]:
    """The kids of the keys a registration proposal holds."""
    return [key["kid"] for key in proposal.payload.get("keys", [])]


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
) -> AuthorityKey | Proposal:
    """Register one public key after key intake (DESIGN §3). `not_before`
    defaults to the moment of registration. A country administrator's
    registration is proposed (README, Four-eyes approval)."""
    if proposal_needed(user):
        entry = {"jwk": jwk, "alg": alg, "kid": kid, "not_before": not_before, "not_after": not_after}
        return _propose_keys(authority, [entry], user=user, reason=reason)
    public = _intake(authority, jwk, alg=alg, kid=kid, lot={})
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
def key_register_many(
    *, authority: Authority, jwks: Any, user: User = None, reason: str = ""
) -> list[AuthorityKey] | Proposal:
    """Register every key of a JWKS, or none of them; a country
    administrator's lot is one proposal."""
    if isinstance(jwks, dict) and "keys" in jwks:
        keys = jwks["keys"]
    elif isinstance(jwks, dict) and "kty" in jwks:
        keys = [jwks]
    else:
        raise ValidationError('expected a JWK or a JWKS ({"keys": [...]})')
    if not isinstance(keys, list) or not keys:
        raise ValidationError("the JWKS 'keys' must be a non-empty list")
    if proposal_needed(user):
        return _propose_keys(authority, [{"jwk": jwk} for jwk in keys], user=user, reason=reason)
    registered = []
    for index, jwk in enumerate(keys):
        try:
            registered.append(key_register(authority=authority, jwk=jwk, user=user, reason=reason))
        except ValidationError as exc:
            raise ValidationError(f"key {index + 1} of {len(keys)}: {'; '.join(exc.messages)}") from None
    return registered


def _apply_registration(authority: Authority, payload: dict, *, user: User, reason: str) -> list[AuthorityKey]:
    def instant(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return [
        key_register(
            authority=authority,
            jwk=key["jwk"],
            alg=key["alg"],
            kid=key["kid"],
            not_before=instant(key.get("not_before")),
            not_after=instant(key.get("not_after")),
            user=user,
            reason=reason,
        )
        for key in payload["keys"]
    ]


def register_executors() -> None:
    """An approved key registration applies through key_register (app ready())."""
    register_executor(REGISTER_KEYS, _apply_registration, lambda keys: {"kids": [key.kid for key in keys]})


def key_generate(
    *, authority: Authority, alg: str, private_key_out: Path, user: User = None, reason: str = ""
) -> AuthorityKey | Proposal:
    """Generate a key pair, write the private half to `private_key_out` (mode
    0600) and register the public half (for a country administrator: propose
    its registration; the private half is written at once). Nothing is kept
    if either step fails, and a file this call did not create is never
    removed: an existing file is refused (O_EXCL) and left as it was,
    whatever fails."""
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
