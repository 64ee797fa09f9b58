"""What a verifier reads in the registry's lists, decoded once when a list is
kept (never per token): a trust list's authorities as the decision's
snapshots (DESIGN §10), a country's merchant-status list as two look-up
tables, a Token Status List as its packed bytes.

The lists are signed by the registry, but a verifier still refuses a list
that is not of the documented shape, naming what is wrong, rather than
failing later on a token.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from merchant_verifier.model import AgreementSnapshot, AuthoritySnapshot, KeySnapshot
from merchant_verifier.signed import ListError, Signed, unavailable
from merchant_verifier.status_list import StatusList, StatusListError

MERCHANT_STATUSES = frozenset({"suspended", "revoked"})
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)


class _Bad(ValueError):
    pass


def _string(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise _Bad(f"{name} must be a non-empty string")
    return value


def _instant(item: dict[str, Any], name: str, *, optional: bool = False) -> datetime | None:
    value = item.get(name)
    if value is None and optional:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Bad(f"{name} must be an RFC 3339 instant") from None
    if parsed.tzinfo is None:
        raise _Bad(f"{name} must be an RFC 3339 instant with its offset")
    return parsed.astimezone(UTC)


def _objects(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _Bad(f"{name} must be a list of objects")
    return value


@dataclass(frozen=True)
class Listed:
    """One authority of a trust list, as the decision takes it."""

    authority: AuthoritySnapshot
    keys: dict[str, KeySnapshot]
    agreements: tuple[AgreementSnapshot, ...]


@dataclass(frozen=True)
class TrustList:
    country: str
    iss: str
    sequence: int
    authorities: dict[str, Listed]  # by issuer


def _key(jwk: dict[str, Any]) -> KeySnapshot:
    key = KeySnapshot(
        id=0,
        kid=_string(jwk, "kid"),
        alg=_string(jwk, "alg"),
        jwk=jwk,
        status=_string(jwk, "status"),
        not_before=_instant(jwk, "not_before"),
        not_after=_instant(jwk, "not_after", optional=True),
        retired_at=_instant(jwk, "retired_at", optional=True),
        compromised_at=_instant(jwk, "compromised_at", optional=True),
    )
    try:
        key.public_key  # noqa: B018  built now, once: never on a token's path
    except (KeyError, ValueError, TypeError):
        raise _Bad(f"key {key.kid!r} is not a usable public JWK") from None
    return key


def _agreement(scope: dict[str, Any], number: int, destination: str, origin: str) -> AgreementSnapshot:
    """An agreement in force when the list was signed (DESIGN §10
    `recognized_for`): active by construction; the decision checks its
    window again at the instant of each verification. The list does not
    carry the legal basis."""
    types = scope.get("credential_types")
    if not isinstance(types, list) or not all(isinstance(code, str) for code in types):
        raise _Bad("credential_types must be a list of strings")
    agreement_id = scope.get("agreement_id")
    if not isinstance(agreement_id, int) or isinstance(agreement_id, bool):
        raise _Bad("agreement_id must be an integer")
    return AgreementSnapshot(
        id=agreement_id,
        version=None,
        authority_id=number,
        destination=destination,
        origin=origin,
        status="active",
        valid_from=_instant(scope, "valid_from"),
        valid_until=_instant(scope, "valid_until", optional=True),
        min_assurance=_string(scope, "min_assurance"),
        credential_types=tuple(sorted(types)),
        legal_basis="",
    )


def _listed(item: dict[str, Any], number: int, destination: str) -> Listed:
    country = _string(item, "country")
    if not _COUNTRY.fullmatch(country):
        raise _Bad(f"country must be an ISO 3166-1 alpha-2 code, not {country[:20]!r}")
    jwks = item.get("jwks")
    if not isinstance(jwks, dict):
        raise _Bad("jwks must be an object")
    keys = {key.kid: key for key in map(_key, _objects(jwks.get("keys"), "jwks.keys"))}
    scopes = _objects(item.get("recognized_for"), "recognized_for")
    authority = AuthoritySnapshot(
        id=number,
        issuer=_string(item, "issuer"),
        name=_string(item, "name"),
        country=country,
        status=_string(item, "status"),
        max_assurance=_string(item, "max_assurance"),
        keys=tuple(keys.values()),
    )
    agreements = tuple(_agreement(scope, number, destination, country) for scope in scopes)
    return Listed(authority=authority, keys=keys, agreements=agreements)


def trust_list(signed: Signed, name: str) -> TrustList:
    payload = signed.payload
    try:
        sequence = payload.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            raise _Bad("sequence must be an integer")
        authorities: dict[str, Listed] = {}
        for number, item in enumerate(_objects(payload.get("authorities"), "authorities"), start=1):
            try:
                listed = _listed(item, number, payload["sub"])
            except _Bad as problem:
                raise _Bad(f"authority {number}: {problem}") from None
            authorities[listed.authority.issuer] = listed
    except _Bad as problem:
        raise unavailable(f"{name} is malformed: {problem}") from None
    return TrustList(country=payload["sub"], iss=payload["iss"], sequence=sequence, authorities=authorities)


@dataclass(frozen=True)
class MerchantStatus:
    """spec: merchants of the country's authorities that are not active, and
    the registry-issued credentials without a status-list index that are not
    valid."""

    country: str
    ttl: int
    merchants: dict[tuple[str, str], str]  # (issuer, registration_number) -> status
    credentials: dict[tuple[str, str], str]  # (issuer, jti) -> status


def _ttl(payload: dict[str, Any]) -> int:
    ttl = payload.get("ttl")
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
        raise _Bad("ttl must be a positive integer")
    return ttl


def _statuses(items: Any, name: str, member: str) -> dict[tuple[str, str], str]:
    found = {}
    for item in _objects(items, name):
        status = item.get("status")
        if status not in MERCHANT_STATUSES:
            raise _Bad(f"{name}: status must be suspended or revoked, not {str(status)[:40]!r}")
        found[(_string(item, "issuer"), _string(item, member))] = status
    return found


def merchant_status(signed: Signed, name: str) -> MerchantStatus:
    payload = signed.payload
    try:
        return MerchantStatus(
            country=payload["sub"],
            ttl=_ttl(payload),
            merchants=_statuses(payload.get("merchants"), "merchants", "registration_number"),
            credentials=_statuses(payload.get("credentials"), "credentials", "jti"),
        )
    except _Bad as problem:
        raise unavailable(f"{name} is malformed: {problem}") from None


@dataclass(frozen=True)
class StatusListDocument:
    uri: str
    ttl: int
    entries: StatusList


def status_list(signed: Signed, name: str, *, max_bytes: int) -> StatusListDocument:
    payload = signed.payload
    try:
        ttl = _ttl(payload)
        entries = StatusList.from_claim(payload.get("status_list"), max_bytes=max_bytes)
    except (_Bad, StatusListError) as problem:
        raise unavailable(f"{name} is malformed: {problem}") from None
    return StatusListDocument(uri=payload["sub"], ttl=ttl, entries=entries)


def status_of(document: StatusListDocument, index: Any, name: str) -> int:
    try:
        return document.entries.status(index)
    except StatusListError as problem:
        raise ListError("lists_unavailable", f"{name}: {problem}") from None
