"""Verifying credentials: read the registry, decide, write the audit rows
(DESIGN §5, §6).

The clock is read once per request and every item of a batch is decided at
that instant. The rows are written in one transaction; the answer is built
from what was written. What is read, and how it stays current on every
worker, is in recognition/snapshots.py.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from merchant_verifier.decide import Decision, Subject, decide
from merchant_verifier.tokens import ParsedToken, Rejected, parse_token
from recognition.services.audit import AuditEntry, Recorded, record_decisions
from recognition.snapshots import (
    MerchantSnapshot,
    Party,
    RegistrySnapshot,
    Wanted,
    current_policy,
    read_parties,
    registry_snapshot,
    wanted_of,
)


@dataclass(frozen=True)
class VerificationRequest:
    token: str
    destination: str
    origin: str | None = None


@dataclass(frozen=True)
class Decided:
    """One request decided, before its audit row is written."""

    request: VerificationRequest
    parsed: ParsedToken | Rejected
    subject: Subject
    decision: Decision


@dataclass(frozen=True)
class Outcome:
    request: VerificationRequest
    subject: Subject
    decision: Decision
    record: Recorded
    evaluated_at: datetime


# The decision -------------------------------------------------------------------------------


def subject_of(
    request: VerificationRequest, wanted: Wanted | None, party: Party | None, snapshot: RegistrySnapshot | None
) -> Subject:
    """Everything `decide` needs about one token."""
    base = Subject(destination=request.destination, declared_origin=request.origin)
    if wanted is None or snapshot is None or party is None:
        return base
    authority = snapshot.authorities.get(wanted.issuer)
    if authority is None:
        return base
    cross_border = authority.country != request.destination
    return Subject(
        destination=request.destination,
        declared_origin=request.origin,
        authority=authority,
        key=snapshot.keys.get((authority.id, wanted.kid)),
        merchant=MerchantSnapshot(*party[:3]) if party.registration_number is not None else None,
        credential_status=party.credential_status,
        agreements=snapshot.agreements.get((request.destination, authority.id), ()) if cross_border else (),
        known_types=frozenset({wanted.type_code}) if wanted.type_code in snapshot.type_codes else frozenset(),
    )


def decide_all(requests: Sequence[VerificationRequest], *, now: datetime) -> list[Decided]:
    """Parse each token once, read the registry once for all of them, decide
    each at `now`. Nothing is written."""
    policy = current_policy()
    max_bytes = settings.REGISTRY["MAX_TOKEN_BYTES"]
    parsed = [parse_token(request.token, max_bytes=max_bytes) for request in requests]
    wanted = [wanted_of(item) for item in parsed]
    looked_up = [item for item in wanted if item is not None]
    snapshot, found = None, iter(())
    if looked_up:
        stamp, parties = read_parties(looked_up)
        snapshot, found = registry_snapshot(stamp), iter(parties)
    decided = []
    for request, item, want in zip(requests, parsed, wanted, strict=True):
        subject = subject_of(request, want, next(found) if want is not None else None, snapshot)
        decision = decide(parsed=item, subject=subject, now=now, policy=policy)
        decided.append(Decided(request=request, parsed=item, subject=subject, decision=decision))
    return decided


# The audit rows -----------------------------------------------------------------------------


def audit_entry(client: str, decided: Decided) -> AuditEntry:
    # The audit keeps what the token claimed (truncated), verified or not:
    # it is evidence of what was presented, not a statement of fact.
    request, parsed, subject, decision = decided.request, decided.parsed, decided.subject, decided.decision
    claims = parsed.claims if isinstance(parsed, ParsedToken) else {}
    header = parsed.header if isinstance(parsed, ParsedToken) else {}

    def claimed(value: Any, limit: int) -> str:
        return value[:limit] if isinstance(value, str) else ""

    agreement = decision.agreement
    return AuditEntry(
        client=client[:150],
        destination=request.destination,
        # The origin is a fact only once the issuer's signature verified, with
        # a key not compromised (DESIGN §5): never the caller's declaration,
        # which declared_origin keeps.
        origin=subject.authority.country if decision.authenticated and subject.authority else "",
        declared_origin=request.origin or "",
        issuer=claimed(claims.get("iss"), 500),
        kid=claimed(header.get("kid"), 200),
        subject=claimed(claims.get("sub"), 200),
        jti=claimed(claims.get("jti"), 200),
        token_sha256=hashlib.sha256(request.token.encode("utf-8", "surrogatepass")).hexdigest(),
        decision="accepted" if decision.accepted else "rejected",
        reasons=decision.codes,
        agreement_id=agreement.id if agreement else None,
        agreement_version=agreement.version if agreement else None,
    )


def outcomes_of(decided: Sequence[Decided], records: Sequence[Recorded], now: datetime) -> list[Outcome]:
    return [
        Outcome(request=item.request, subject=item.subject, decision=item.decision, record=record, evaluated_at=now)
        for item, record in zip(decided, records, strict=True)
    ]


def verify_credentials(requests: list[VerificationRequest], *, client: str) -> list[Outcome]:
    """Decide every request at one instant and audit each decision."""
    now = timezone.now()
    decided = decide_all(requests, now=now)
    # Committed and on disk before anyone hears the answer.
    records = record_decisions([audit_entry(client, item) for item in decided], at=now)
    return outcomes_of(decided, records, now)
