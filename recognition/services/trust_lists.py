"""Signed trust lists (DESIGN §7, §10): every authority a country trusts now,
with its keys and the scope it is trusted for, as a JWS the registry signs.

The `sequence` grows only when the content changes: the SHA-256 of the
content (everything but iat and exp) is kept per country.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.models import Authority, AuthorityKey, AuthorityStatus
from recognition.models import RecognitionAgreement
from recognition.services.registry_keys import signing_key
from recognition.trust_models import TrustListState

TRUST_LIST_TYP = "trust-list+jwt"


def _numeric(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _key_entry(key: AuthorityKey) -> dict[str, Any]:
    # Registry members beside the JWK's own, so that an offline verifier can
    # apply the same key rules as the API (DESIGN §5 key_* reasons).
    return {
        **key.public_jwk,
        "status": key.status,
        "not_before": _numeric(key.not_before),
        "not_after": _numeric(key.not_after),
        "retired_at": _numeric(key.retired_at),
    }


def trust_list_content(country: str, at: datetime) -> list[dict[str, Any]]:
    """The authorities `country` trusts at `at`: its own active ones (domestic
    trust) and the active foreign ones under an agreement in force."""
    scopes: dict[int, list[dict[str, Any]]] = {}
    in_force = (
        RecognitionAgreement.objects.in_force(destination=country, at=at)
        .filter(authority__status=AuthorityStatus.ACTIVE)
        .prefetch_related("credential_types")
        .order_by("id")
    )
    for agreement in in_force:
        scopes.setdefault(agreement.authority_id, []).append(
            {
                "credential_types": sorted(t.code for t in agreement.credential_types.all()),
                "min_assurance": agreement.min_assurance,
                "valid_from": _iso(agreement.valid_from),
                "valid_until": _iso(agreement.valid_until),
                "agreement_id": agreement.id,
            }
        )
    own = Authority.objects.filter(country=country, status=AuthorityStatus.ACTIVE)
    foreign = Authority.objects.filter(id__in=scopes)
    authorities = sorted({*own, *foreign}, key=lambda a: (a.country.code != country, a.country.code, a.issuer))
    keys: dict[int, list[dict[str, Any]]] = {}
    for key in AuthorityKey.objects.filter(authority__in=authorities).order_by("authority_id", "created_at", "id"):
        keys.setdefault(key.authority_id, []).append(_key_entry(key))
    return [
        {
            "issuer": authority.issuer,
            "name": authority.name,
            "country": authority.country.code,
            "status": authority.status,
            "max_assurance": authority.max_assurance,
            "jwks": {"keys": keys.get(authority.id, [])},
            "recognized_for": [] if authority.country == country else scopes[authority.id],
        }
        for authority in authorities
    ]


def _sequence(country: str, digest: str, now: datetime) -> int:
    """The list's sequence number, advanced when (and only when) the content
    changed since the last list."""
    for _ in range(2):
        try:
            with transaction.atomic():
                state = TrustListState.objects.select_for_update().filter(country=country).first()
                if state is None:
                    TrustListState.objects.create(country=country, sequence=1, content_sha256=digest, changed_at=now)
                    return 1
                if state.content_sha256 != digest:
                    state.sequence += 1
                    state.content_sha256, state.changed_at = digest, now
                    state.save(update_fields=["sequence", "content_sha256", "changed_at"])
                return state.sequence
        except IntegrityError:
            continue  # another worker created the first state meanwhile
    raise RuntimeError("could not record the trust list sequence")


def trust_list_jws(country: str) -> str:
    """The compact JWS of `country`'s trust list, signed now."""
    now = timezone.now().replace(microsecond=0)
    authorities = trust_list_content(country, now)
    canonical = json.dumps(authorities, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    key = signing_key()
    payload = {
        "iss": settings.REGISTRY["ISSUER"],
        "sub": country,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.REGISTRY["TRUST_LIST_TTL_SECONDS"])).timestamp()),
        "sequence": _sequence(country, digest, now),
        "authorities": authorities,
    }
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": TRUST_LIST_TYP})
