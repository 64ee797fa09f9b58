"""Signed trust lists (DESIGN §7, §10): every authority a country trusts now,
with its keys and the scope it is trusted for, as a JWS the registry signs.

The `sequence` grows only when the content changes: the SHA-256 of the
content (everything but iat and exp) is kept per country. The content is
built while that country's state row is locked, so two workers can never
give an older content a higher sequence.

What an offline verifier can and cannot decide from a list: it carries the
authorities, their keys with status and validity, the accreditation
(`max_assurance`) and the scope of each agreement in force; it does not
carry merchants (their suspension or revocation), revoked credentials, the
registered credential types, nor why an authority is absent (no agreement,
agreement suspended or out of its window, authority suspended). An offline
verifier refuses an absent issuer as unknown.

Who is listed follows the terms of `point_in_time.recognize` (own active
authorities; foreign active ones under an agreement in force, by
`AgreementSnapshot.in_force`), read from the current rows, which at "now"
are the latest history. The key condition
of `recognize` is not applied to the membership on purpose: every key
travels with its status and validity, so an offline verifier applies it
per credential. Dropping an authority whose keys are all compromised would
make that verifier answer unknown_issuer where the API answers
key_compromised; listing it keeps the two answers the same, while
`GET recognition/`, the matrix and TRQP report it as not recognized.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.instants import iso_or_none
from identity.jose.jwk import public_members
from identity.models import Authority, AuthorityKey, AuthorityStatus
from recognition.models import RecognitionAgreement, TrustListState
from recognition.services.registry_keys import signing_key
from recognition.snapshots import AgreementSnapshot

TRUST_LIST_TYP = "trust-list+jwt"
MEDIA_TYPE = "application/jwt"
# How long HTTP caches may keep a list: at most the list's lifetime, and no
# more than five minutes, so that a suspension or a compromised key reaches
# online readers quickly (an offline verifier still holds it until `exp`).
MAX_CACHE_SECONDS = 300


def lifetime() -> timedelta:
    return timedelta(seconds=settings.REGISTRY["TRUST_LIST_TTL_SECONDS"])


def cache_max_age() -> int:
    return min(settings.REGISTRY["TRUST_LIST_TTL_SECONDS"], MAX_CACHE_SECONDS)


def published_key(key: AuthorityKey) -> dict[str, Any]:
    """An authority's key as the registry publishes it (trust lists, the
    authority's JWKS): its public members, and the registry's members beside
    them (RFC 7517 §4: members a reader does not understand are ignored), so
    that an offline verifier can apply the same key rules as the API (DESIGN
    §5 key_compromised, key_not_valid_at_issuance). Instants are RFC 3339 UTC
    with the fraction of a second when there is one: the API compares a
    credential's iat with these bounds to the microsecond, so whole seconds
    would let an offline verifier accept a credential the API refuses. A
    compromised key stays listed: its tokens are then refused as
    key_compromised, as the API does, rather than as an unknown key a
    verifier might go looking for."""
    return {
        **public_members(key.public_jwk),
        "kid": key.kid,
        "alg": key.alg,
        "use": "sig",
        "status": key.status,
        "not_before": iso_or_none(key.not_before),
        "not_after": iso_or_none(key.not_after),
        "retired_at": iso_or_none(key.retired_at),
        "compromised_at": iso_or_none(key.compromised_at),
    }


def _scopes(country: str, at: datetime) -> dict[int, list[dict[str, Any]]]:
    """The scope of every agreement of `country` in force at `at`, by the
    recognized (active) authority."""
    scopes: dict[int, list[dict[str, Any]]] = {}
    agreements = (
        RecognitionAgreement.objects.filter(destination=country, authority__status=AuthorityStatus.ACTIVE)
        .prefetch_related("credential_types")
        .order_by("id")
    )
    for agreement in map(AgreementSnapshot.of, agreements):
        if not agreement.in_force(at):
            continue
        scopes.setdefault(agreement.authority_id, []).append(
            {
                "credential_types": sorted(agreement.credential_types),
                "min_assurance": agreement.min_assurance,
                "valid_from": iso_or_none(agreement.valid_from),
                "valid_until": iso_or_none(agreement.valid_until),
                "agreement_id": agreement.id,
            }
        )
    return scopes


def trust_list_content(country: str, at: datetime) -> list[dict[str, Any]]:
    """The authorities `country` trusts at `at`: its own active ones (domestic
    trust, `recognized_for` empty) and the active foreign ones under an
    agreement in force, each with every key it has (keys are never deleted;
    their status and validity say which credentials they may sign)."""
    scopes = _scopes(country, at)
    own = Authority.objects.filter(country=country, status=AuthorityStatus.ACTIVE)
    foreign = Authority.objects.filter(id__in=scopes).exclude(country=country)
    authorities = sorted({*own, *foreign}, key=lambda a: (a.country.code != country, a.country.code, a.issuer))
    keys: dict[int, list[dict[str, Any]]] = {}
    for key in AuthorityKey.objects.filter(authority__in=authorities).order_by("authority_id", "not_before", "kid"):
        keys.setdefault(key.authority_id, []).append(published_key(key))
    return [
        {
            "issuer": authority.issuer,
            "name": authority.name,
            "country": authority.country.code,
            "status": authority.status,
            "max_assurance": authority.max_assurance,
            "jwks": {"keys": keys.get(authority.id, [])},
            "recognized_for": [] if authority.country.code == country else scopes[authority.id],
        }
        for authority in authorities
    ]


def _digest(authorities: list[dict[str, Any]]) -> str:
    canonical = json.dumps(authorities, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _locked_state(country: str) -> TrustListState:
    # get_or_create survives a concurrent first creation (it retries the get
    # after the IntegrityError); the lock then serializes list builds.
    TrustListState.objects.get_or_create(
        country=country, defaults={"sequence": 0, "content_sha256": "", "changed_at": timezone.now()}
    )
    return TrustListState.objects.select_for_update().get(country=country)


def trust_list_payload(country: str) -> dict[str, Any]:
    """The payload of `country`'s list now, with its sequence advanced if
    (and only if) the content changed since the last list. Call it inside a
    transaction: the state row stays locked until the list is signed."""
    state = _locked_state(country)
    # Read after the lock and before the key is loaded (registry_keys._publish).
    now = timezone.now().replace(microsecond=0)
    authorities = trust_list_content(country, now)
    digest = _digest(authorities)
    if state.content_sha256 != digest:
        state.sequence += 1
        state.content_sha256, state.changed_at = digest, now
        state.save(update_fields=["sequence", "content_sha256", "changed_at"])
    payload = {
        "iss": settings.REGISTRY["ISSUER"],
        "sub": country,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime()).timestamp()),
        "sequence": state.sequence,
        "authorities": authorities,
    }
    return payload


def trust_list_jws(country: str) -> str:
    """The compact JWS of `country`'s trust list, signed now with the
    registry's current key (header `kid`, `typ` trust-list+jwt)."""
    with transaction.atomic():
        payload = trust_list_payload(country)
        key = signing_key()
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": TRUST_LIST_TYP})
