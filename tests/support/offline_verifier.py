"""An offline verifier, as a foreign platform would write one: it holds a
country's trust list (fetched once, verified with jwcrypto against the
registry's /.well-known/jwks.json) and decides credentials from it alone,
without asking the registry.

It shares nothing with the registry's decision but the strict token parser
(merchant_verifier.tokens.parse_token, a pure function): signatures are
checked with jwcrypto, not with the registry's PyJWT-based layer, and the
rules are re-written from DESIGN §5 against the trust list's members.

What a trust list cannot tell, and so what this verifier cannot see:
merchants (an unknown, suspended or revoked merchant), credentials the
registry revoked, which credential types are registered, and why an issuer
is absent (no agreement, an agreement suspended, terminated or outside its
window, an authority suspended): it refuses an absent issuer as
`unknown_issuer`.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from merchant_verifier.tokens import Rejected, parse_token

LEVELS = ("low", "substantial", "high")
TRUST_LIST_TYP = "trust-list+jwt"
REGISTRY_ALGS = ("ES256", "EdDSA")
JWK_MEMBERS = ("kty", "crv", "x", "y", "n", "e", "kid", "alg", "use")


class TrustListRefused(Exception):
    pass


@dataclass(frozen=True)
class OfflinePolicy:
    leeway: timedelta = timedelta(seconds=60)
    max_lifetime: timedelta = timedelta(days=400)
    max_token_bytes: int = 8192


def verify_trust_list(compact: str, registry_jwks: dict, *, country: str, issuer: str, now: datetime) -> dict:
    """The payload of a trust list whose signature verifies with the
    registry key its header names, of the expected type, issuer, country
    and not expired."""
    envelope = jws.JWS()
    try:
        envelope.deserialize(compact)
        header = envelope.jose_header
        if header.get("typ") != TRUST_LIST_TYP or header.get("alg") not in REGISTRY_ALGS:
            raise TrustListRefused(f"not a registry trust list: {header}")
        key = jwk.JWKSet.from_json(json.dumps(registry_jwks)).get_key(header.get("kid"))
        if key is None:
            raise TrustListRefused(f"no registry key {header.get('kid')!r}")
        envelope.verify(key, alg=header["alg"])
    except JWException as exc:
        raise TrustListRefused(f"signature: {exc}") from None
    payload = json.loads(envelope.payload)
    if payload["iss"] != issuer or payload["sub"] != country:
        raise TrustListRefused("wrong issuer or country")
    if not payload["iat"] - 60 <= now.timestamp() < payload["exp"]:
        raise TrustListRefused("expired or not yet valid")
    return payload


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _signature_verifies(token: str, entry: dict[str, Any]) -> bool:
    key = jwk.JWK(**{name: entry[name] for name in JWK_MEMBERS if name in entry})
    envelope = jws.JWS()
    try:
        envelope.deserialize(token)
        envelope.verify(key, alg=entry["alg"])
    except JWException:
        return False
    return True


def _claims_invalid(claims: dict[str, Any], authority: dict[str, Any], policy: OfflinePolicy) -> bool:
    merchant = claims.get("merchant")
    numbers = all(isinstance(claims.get(name), int | float) for name in ("iat", "exp")) and (
        "nbf" not in claims or isinstance(claims["nbf"], int | float)
    )
    return not (
        all(isinstance(claims.get(name), str) and claims[name] for name in ("sub", "jti", "credential_type"))
        and claims.get("assurance") in LEVELS
        and numbers
        and 0 < claims["exp"] - claims["iat"] <= policy.max_lifetime.total_seconds()
        and isinstance(merchant, dict)
        and merchant.get("registration_number") == claims["sub"]
        and merchant.get("country") == authority["country"]
        and isinstance(merchant.get("legal_name"), str)
        and merchant["legal_name"]
    )


def _key_codes(entry: dict[str, Any], iat: float) -> list[str]:
    codes = ["key_compromised"] if entry["status"] == "compromised" else []
    issued = datetime.fromtimestamp(iat, tz=UTC)
    not_after, retired_at = _instant(entry["not_after"]), _instant(entry["retired_at"])
    if (
        issued < _instant(entry["not_before"])
        or (not_after is not None and issued >= not_after)
        or (retired_at is not None and issued > retired_at)
    ):
        codes.append("key_not_valid_at_issuance")
    return codes


def _scope_codes(claims: dict[str, Any], authority: dict[str, Any], destination: str, now: datetime) -> list[str]:
    if authority["country"] == destination:
        return []  # domestic trust: recognized_for is empty and not needed
    in_force = [
        scope
        for scope in authority["recognized_for"]
        if _instant(scope["valid_from"]) <= now
        and (scope["valid_until"] is None or now < _instant(scope["valid_until"]))
    ]
    if not in_force:
        return ["agreement_not_in_force"]
    covering = [scope for scope in in_force if claims.get("credential_type") in scope["credential_types"]]
    if not covering:
        return ["credential_type_not_recognized"]
    assurance = claims.get("assurance")
    if assurance in LEVELS and not any(
        LEVELS.index(scope["min_assurance"]) <= LEVELS.index(assurance) for scope in covering
    ):
        return ["assurance_below_minimum"]
    return []


def decide_offline(
    trust_list: dict[str, Any], token: str, *, now: datetime, policy: OfflinePolicy | None = None
) -> list[str]:
    """The reason codes of a refusal, in the order of DESIGN §5; empty when
    the credential is accepted in the trust list's country."""
    policy = policy or OfflinePolicy()
    parsed = parse_token(token, max_bytes=policy.max_token_bytes)
    if isinstance(parsed, Rejected):
        return [str(parsed.reason)]
    authority = next((a for a in trust_list["authorities"] if a["issuer"] == parsed.claims.get("iss")), None)
    if authority is None:
        return ["unknown_issuer"]
    entry = next((k for k in authority["jwks"]["keys"] if k.get("kid") == parsed.kid), None)
    if entry is None:
        return ["unknown_key"]
    if entry["alg"] != parsed.alg:
        return ["algorithm_mismatch"]
    if not _signature_verifies(token, entry):
        return ["invalid_signature"]
    claims, codes = parsed.claims, []
    if _claims_invalid(claims, authority, policy):
        return ["invalid_claim"]  # the registry reports more beside it; not in the equivalence set
    stamp, leeway = now.timestamp(), policy.leeway.total_seconds()
    if claims["exp"] + leeway <= stamp:
        codes.append("expired")
    if any(name in claims and claims[name] - leeway > stamp for name in ("nbf", "iat")):
        codes.append("not_yet_valid")
    codes += _key_codes(entry, claims["iat"])
    if authority["status"] != "active":
        codes.append(f"issuer_{authority['status']}")
    if LEVELS.index(claims["assurance"]) > LEVELS.index(authority["max_assurance"]):
        codes.append("assurance_exceeds_accreditation")
    return codes + _scope_codes(claims, authority, trust_list["sub"], now)
