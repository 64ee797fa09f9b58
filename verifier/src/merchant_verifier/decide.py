"""The decision (DESIGN §5) as a pure function: snapshots in, `Decision` out.

`decide` touches neither a database, nor the network, nor the clock: the
registry loads the snapshots from its database and writes the audit row
around it, a verifier at the edge builds them from the registry's signed
lists; both read the clock once and pass it in.
"""

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from merchant_verifier.model import (
    KEY_COMPROMISED,
    LEVELS,
    AgreementSnapshot,
    AuthoritySnapshot,
    KeySnapshot,
    MerchantSnapshot,
    Policy,
)
from merchant_verifier.reasons import Reason
from merchant_verifier.tokens import ParsedToken, Rejected


def above(level: str, ceiling: str) -> bool:
    """Whether assurance `level` is higher than `ceiling` (DESIGN §2: low <
    substantial < high): a credential above its authority's accreditation,
    or an agreement's minimum above the credential's assurance."""
    return _RANK[level] > _RANK[ceiling]


_RANK = {level: rank for rank, level in enumerate(LEVELS)}


# Subject and Decision are built for every token: plain slotted classes, since
# a frozen dataclass's __init__ makes a call a field. Nothing changes them once
# built (dataclasses.replace makes a new one).
@dataclass(slots=True)
class Subject:
    """What `decide` needs about the world, loaded for one token."""

    destination: str
    declared_origin: str | None
    authority: AuthoritySnapshot | None = None
    key: KeySnapshot | None = None
    merchant: MerchantSnapshot | None = None
    credential_status: str | None = None  # of a registry-issued credential with this jti
    agreements: tuple[AgreementSnapshot, ...] = ()
    known_types: Container[str] = frozenset()


@dataclass(slots=True)
class Decision:
    reasons: tuple[tuple[Reason, str], ...]
    verified: bool = False
    claims: dict[str, Any] = field(default_factory=dict)
    agreement: AgreementSnapshot | None = None

    @property
    def accepted(self) -> bool:
        return not self.reasons

    @property
    def authenticated(self) -> bool:
        """The signature verified with a key that still proves who signed.
        A compromised key's signature proves nothing (anyone may hold the
        key): its token is refused with every policy reason listed, but its
        claims are no more facts than an unverified token's (DESIGN §5)."""
        return self.verified and all(code != Reason.KEY_COMPROMISED for code, _ in self.reasons)

    @property
    def codes(self) -> list[str]:
        return [str(code) for code, _ in self.reasons]


def _reject(reason: Reason, detail: str) -> Decision:
    return Decision(reasons=((reason, detail),))


def decide(*, parsed: ParsedToken | Rejected, subject: Subject, now: datetime, policy: Policy) -> Decision:
    """Structural and cryptographic failures stop at the first; once the
    signature verified, every policy check runs and every failure is listed."""
    if isinstance(parsed, Rejected):
        return _reject(parsed.reason, parsed.detail)
    authority, key = subject.authority, subject.key
    if authority is None:
        iss = parsed.claims.get("iss")
        shown = "missing" if iss is None else repr(iss)[:100]
        return _reject(Reason.UNKNOWN_ISSUER, f"no authority has issuer {shown}")
    if key is None:
        return _reject(Reason.UNKNOWN_KEY, f"{authority.issuer} has no key {parsed.kid[:100]!r}")
    if key.alg != parsed.alg:
        return _reject(Reason.ALGORITHM_MISMATCH, f"key {key.kid} is registered for {key.alg}, not {parsed.alg}")
    if not key.verifies(parsed):
        return _reject(Reason.INVALID_SIGNATURE, f"the signature does not verify with key {key.kid}")
    claims = parsed.claims
    reasons: list[tuple[Reason, str]] = []
    times = _check_claims(claims, authority, policy, reasons)
    if times is not None:
        _check_times(times, now, policy, reasons)
    _check_key(key, times, reasons)
    _check_parties(claims, subject, authority, reasons)
    agreement = None
    if authority.country != subject.destination:
        agreement = _check_agreements(claims, subject, authority, now, reasons)
    return Decision(reasons=tuple(reasons), verified=True, claims=claims, agreement=agreement)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_claims(
    claims: dict[str, Any], authority: AuthoritySnapshot, policy: Policy, reasons: list
) -> dict[str, float] | None:
    """invalid_claim: required claims present and typed, `merchant` consistent,
    lifetime bounded. Returns the NumericDates when they are usable."""
    problems = []
    for name in ("sub", "jti", "credential_type"):
        value = claims.get(name)
        if not value or not isinstance(value, str):
            problems.append(f"{name} must be a non-empty string")
    if claims.get("assurance") not in LEVELS:
        problems.append(f"assurance must be one of {', '.join(LEVELS)}")
    dated = True
    for name in ("iat", "exp"):
        if not _is_number(claims.get(name)):
            problems.append(f"{name} must be a NumericDate (a JSON number)")
            dated = False
    nbf = claims.get("nbf", 0)  # absent: nothing to check
    if not _is_number(nbf):
        problems.append("nbf must be a NumericDate (a JSON number)")
        dated = False
    problems += _merchant_claim_problems(claims, authority)
    times = None
    if dated:
        times = {"iat": float(claims["iat"]), "exp": float(claims["exp"])}
        if "nbf" in claims:
            times["nbf"] = float(nbf)
        lifetime = times["exp"] - times["iat"]
        if lifetime <= 0:
            problems.append("exp must be after iat")
        elif lifetime > policy.max_lifetime.total_seconds():
            problems.append(f"lifetime exceeds the maximum of {policy.max_lifetime.days} days")
    if problems:
        reasons.append((Reason.INVALID_CLAIM, "; ".join(problems)))
    return times


def _merchant_claim_problems(claims: dict[str, Any], authority: AuthoritySnapshot) -> list[str]:
    merchant = claims.get("merchant")
    if not isinstance(merchant, dict):
        return ["merchant must be an object"]
    problems = []
    if not isinstance(merchant.get("legal_name"), str) or not merchant["legal_name"]:
        problems.append("merchant.legal_name must be a non-empty string")
    if merchant.get("registration_number") != claims.get("sub"):
        problems.append("merchant.registration_number must equal sub")
    if merchant.get("country") != authority.country:
        problems.append(f"merchant.country must be the authority's country {authority.country}")
    if "lei" in merchant and not isinstance(merchant["lei"], str):
        problems.append("merchant.lei must be a string")
    return problems


def _instant(numeric_date: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(numeric_date, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _check_times(times: dict[str, float], now: datetime, policy: Policy, reasons: list) -> None:
    leeway = policy.leeway.total_seconds()
    stamp = now.timestamp()
    if times["exp"] + leeway <= stamp:
        reasons.append((Reason.EXPIRED, "the credential has expired"))
    if times["iat"] - leeway > stamp or ("nbf" in times and times["nbf"] - leeway > stamp):
        future = [name for name in ("nbf", "iat") if name in times and times[name] - leeway > stamp]
        reasons.append((Reason.NOT_YET_VALID, f"{' and '.join(future)} in the future"))


def _check_key(key: KeySnapshot, times: dict[str, float] | None, reasons: list) -> None:
    if key.status == KEY_COMPROMISED:
        reasons.append((Reason.KEY_COMPROMISED, f"key {key.kid} is marked compromised"))
    if times is None:
        return
    issued = _instant(times["iat"])
    outside = (
        issued is None
        or issued < key.not_before
        or (key.not_after is not None and issued >= key.not_after)
        or (key.retired_at is not None and issued > key.retired_at)
    )
    if outside:
        reasons.append((Reason.KEY_NOT_VALID_AT_ISSUANCE, f"iat is outside the validity of key {key.kid}"))


def _check_parties(claims: dict[str, Any], subject: Subject, authority: AuthoritySnapshot, reasons: list) -> None:
    if authority.status == "suspended":
        reasons.append((Reason.ISSUER_SUSPENDED, f"{authority.issuer} is suspended"))
    elif authority.status == "revoked":
        reasons.append((Reason.ISSUER_REVOKED, f"{authority.issuer} is revoked"))
    merchant = subject.merchant
    if merchant is None:
        reasons.append((Reason.UNKNOWN_MERCHANT, f"{authority.issuer} has registered no such merchant"))
    elif merchant.status == "suspended":
        reasons.append((Reason.MERCHANT_SUSPENDED, f"merchant {merchant.registration_number} is suspended"))
    elif merchant.status == "revoked":
        reasons.append((Reason.MERCHANT_REVOKED, f"merchant {merchant.registration_number} is revoked"))
    if subject.credential_status == "revoked":
        reasons.append((Reason.CREDENTIAL_REVOKED, "the registry has revoked this credential"))
    elif subject.credential_status == "suspended":
        reasons.append((Reason.CREDENTIAL_SUSPENDED, "the registry has suspended this credential"))
    assurance = claims.get("assurance")
    if assurance in LEVELS and above(assurance, authority.max_assurance):
        reasons.append(
            (
                Reason.ASSURANCE_EXCEEDS_ACCREDITATION,
                f"{authority.issuer} is accredited up to {authority.max_assurance}, not {assurance}",
            )
        )
    if subject.declared_origin and subject.declared_origin != authority.country:
        reasons.append(
            (
                Reason.ORIGIN_MISMATCH,
                f"origin {subject.declared_origin} is not the issuer's country {authority.country}",
            )
        )
    credential_type = claims.get("credential_type")
    if isinstance(credential_type, str) and credential_type and credential_type not in subject.known_types:
        reasons.append((Reason.INVALID_CLAIM, f"credential_type {credential_type[:100]!r} is not a registered type"))


def _check_agreements(
    claims: dict[str, Any], subject: Subject, authority: AuthoritySnapshot, now: datetime, reasons: list
) -> AgreementSnapshot | None:
    """The agreement that decides, if any; its failures appended to `reasons`."""
    destination = subject.destination
    if not subject.agreements:
        reasons.append((Reason.NO_AGREEMENT, f"{destination} has no agreement recognizing {authority.issuer}"))
        return None
    in_force = [a for a in subject.agreements if a.in_force(now)]
    if not in_force:
        reasons.append(
            (Reason.AGREEMENT_NOT_IN_FORCE, f"no agreement of {destination} recognizing {authority.issuer} is in force")
        )
        return None
    credential_type = claims.get("credential_type")
    if not isinstance(credential_type, str):
        credential_type = None  # a list or an object is already an invalid_claim; never hash it
    covering = [a for a in in_force if credential_type in a.credential_types]
    if not covering:
        reasons.append(
            (Reason.CREDENTIAL_TYPE_NOT_RECOGNIZED, f"{destination} does not recognize {str(credential_type)[:100]!r}")
        )
        return None
    assurance = claims.get("assurance")
    if assurance not in LEVELS:
        return None  # already an invalid_claim; no level to compare
    for agreement in covering:
        if not above(agreement.min_assurance, assurance):
            return agreement  # the first that asks for no more than the credential has
    lowest = min(covering, key=lambda a: LEVELS.index(a.min_assurance))
    reasons.append(
        (Reason.ASSURANCE_BELOW_MINIMUM, f"{destination} asks for at least {lowest.min_assurance} assurance")
    )
    return lowest
