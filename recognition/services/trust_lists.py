"""Signed trust lists (DESIGN §7, §10): every authority a country trusts now,
with its keys and the scope it is trusted for, as a JWS the registry signs.

The `sequence` grows only when the content changes: the SHA-256 of the
content (everything but iat and exp) is kept per country. The content is
built while that country's state row is locked, so two workers can never
give an older content a higher sequence.

A list is signed once and served, byte for byte, until its content changes
(a write to the registry, or an agreement entering or leaving its window),
half its lifetime has passed, or the registry's key has changed: the bytes
are kept in the state row (one ETag for every worker, core/http_cache.py)
and each worker process keeps a copy in memory tagged with the registry
stamp (recognition/snapshots.py), so that serving an unchanged list costs
one small query.

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

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.http_cache import strong_etag
from core.instants import iso_or_none
from identity.jose.jwk import public_members
from identity.models import Authority, AuthorityKey, AuthorityStatus
from recognition.models import AgreementStatus, RecognitionAgreement, TrustListState
from recognition.services.registry_keys import load_signing_key, signing_key
from recognition.snapshots import AgreementSnapshot, registry_stamp

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


def _next_window_edge(country: str, at: datetime) -> datetime | None:
    """The first instant after `at` at which an active agreement of
    `country` enters or leaves its window: the list's content changes then
    with no write to the registry (AgreementSnapshot.in_force). Keys need no
    such instant: every key is listed whatever its validity."""
    edges = RecognitionAgreement.objects.filter(destination=country, status=AgreementStatus.ACTIVE).filter(
        Q(valid_from__gt=at) | Q(valid_until__gt=at)
    )
    found = [edge for pair in edges.values_list("valid_from", "valid_until") for edge in pair if edge and edge > at]
    return min(found, default=None)


def _reusable(state: TrustListState, *, kid: str, now: datetime) -> bool:
    """Whether the list kept in `state` (of the current content) may be
    served again at `now`: signed with the current key, less than half its
    lifetime ago, and with the `iss` and lifetime configured now (a changed
    setting is in the next list, not half a lifetime later)."""
    signed_at = state.signed_at
    if not state.jws or state.kid != kid or signed_at is None or not signed_at <= now < signed_at + lifetime() / 2:
        return False
    segment = state.jws.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return (
        payload["iss"] == settings.REGISTRY["ISSUER"] and payload["exp"] - payload["iat"] == lifetime().total_seconds()
    )


@dataclass(frozen=True)
class SignedTrustList:
    """A country's list as served: its exact bytes and ETag, and until when
    they are still exact (`fresh_until`: half the list's lifetime after
    `iat`, or the next agreement window edge, whichever comes first)."""

    country: str
    body: bytes
    etag: str
    kid: str
    stamp: int  # the registry stamp read before the content was
    iat: datetime
    fresh_until: datetime

    def fresh(self, *, stamp: int, kid: str, now: datetime) -> bool:
        """Whether these bytes are what would be signed at `now` (whole
        seconds, as the list's instants): no write to the registry since
        (the stamp), the same registry key, and no time-based change yet."""
        return stamp == self.stamp and kid == self.kid and self.iat <= now < self.fresh_until

    def max_age(self, now: datetime) -> int:
        """Cache-Control max-age: at most MAX_CACHE_SECONDS, and never past
        the instant the list is signed again (so never past its exp)."""
        return max(0, min(MAX_CACHE_SECONDS, int((self.fresh_until - now).total_seconds())))


def _signed(country: str, stamp: int) -> SignedTrustList:
    """Build `country`'s list with its state row locked: the sequence
    advances if (and only if) the content changed since the last list. The
    list last signed is kept in the row and served again while its content
    is the same, its key is the current one and less than half its lifetime
    has passed; otherwise the list is signed now. So every worker serves the
    same bytes, and `sequence` keeps the rules of DESIGN §7 and §10."""
    with transaction.atomic():
        state = _locked_state(country)
        # Read after the lock and before the key is loaded (registry_keys._publish).
        now = timezone.now().replace(microsecond=0)
        authorities = trust_list_content(country, now)
        digest = _digest(authorities)
        key = signing_key()
        half = lifetime() / 2
        if state.content_sha256 != digest:
            state.sequence += 1
            state.content_sha256, state.changed_at = digest, now
            state.jws = ""
        if not _reusable(state, kid=key.kid, now=now):
            payload = {
                "iss": settings.REGISTRY["ISSUER"],
                "sub": country,
                "iat": int(now.timestamp()),
                "exp": int((now + lifetime()).timestamp()),
                "sequence": state.sequence,
                "authorities": authorities,
            }
            headers = {"kid": key.kid, "typ": TRUST_LIST_TYP}
            state.jws = jwt.encode(payload, key.private_key, algorithm=key.alg, headers=headers)
            state.signed_at, state.kid = now, key.kid
            state.save(update_fields=["sequence", "content_sha256", "changed_at", "jws", "signed_at", "kid"])
        iat = state.signed_at
        edge = _next_window_edge(country, now)
    body = state.jws.encode("ascii")
    fresh_until = iat + half if edge is None else min(iat + half, edge)
    return SignedTrustList(country, body, strong_etag(body), state.kid, stamp, iat, fresh_until)


# The lists this worker process serves, by database and country: replaced
# whole, never changed. Each process keeps its own copy of what the state
# rows hold; a process that has none (just started) or whose copy is no
# longer fresh reads the row again.
_served: dict[tuple[str, str, str], SignedTrustList] = {}


def trust_list(country: str) -> SignedTrustList:
    """`country`'s signed list now. When the copy this process keeps is
    still exact, it costs one small query (the registry stamp) and a look at
    the key file: no build, no lock, no signature. Every write to the
    authorities, keys, agreements and credential types changes the stamp in
    its own transaction (migration 0005), so a suspension is in the very
    next list served by every worker (DESIGN §7)."""
    stamp = registry_stamp()  # before the content is read: a list is never newer than its stamp says
    kid = load_signing_key().kid
    where = (connection.alias, str(connection.settings_dict["NAME"]), country)
    served = _served.get(where)
    if served is None or not served.fresh(stamp=stamp, kid=kid, now=timezone.now().replace(microsecond=0)):
        served = _served[where] = _signed(country, stamp)
    return served


def trust_list_jws(country: str) -> str:
    """The compact JWS of `country`'s trust list (header `kid`, `typ`
    trust-list+jwt), built now under the state row's lock."""
    return _signed(country, registry_stamp()).body.decode("ascii")
