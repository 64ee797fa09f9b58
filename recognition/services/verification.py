"""Verifying credentials: load the snapshots, decide, write the audit rows.

The clock is read once per request and every item of a batch is decided at
that instant. The rows are written in one transaction; the answer is built
from what was written.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone

from identity.models import Authority, CredentialType, IssuedCredential
from recognition.audit_models import Verification
from recognition.models import RecognitionAgreement
from recognition.services.audit import AuditEntry, audit_append
from recognition.services.token import ParsedToken, Rejected, parse_token
from recognition.services.verify import (
    AgreementSnapshot,
    AuthoritySnapshot,
    Decision,
    KeySnapshot,
    MerchantSnapshot,
    Policy,
    Subject,
    decide,
)


@dataclass(frozen=True)
class VerificationRequest:
    token: str
    destination: str
    origin: str | None = None


@dataclass(frozen=True)
class Outcome:
    request: VerificationRequest
    subject: Subject
    decision: Decision
    record: Verification
    evaluated_at: datetime


def current_policy() -> Policy:
    registry = settings.REGISTRY
    return Policy(
        leeway=timedelta(seconds=registry["VERIFY_LEEWAY_SECONDS"]),
        max_lifetime=timedelta(days=registry["MAX_CREDENTIAL_LIFETIME_DAYS"]),
    )


def _text(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


_AUTHORITY_FIELDS = ("id", "issuer", "name", "country", "status", "max_assurance")
_KEY_FIELDS = ("id", "kid", "alg", "public_jwk", "status", "not_before", "not_after", "retired_at")
_MERCHANT_FIELDS = ("registration_number", "legal_name", "status")


def _registry_row(
    *, issuer: str, kid: str | None, sub: str | None, jti: str | None, type_code: str | None
) -> dict | None:
    """The authority of `issuer` and, beside it, its key `kid`, its merchant
    `sub`, the status of its credential `jti` and whether `type_code` is a
    registered type: one query (and one snapshot) whatever the size of the
    tables. Every lookup is a plain equality (a kid is never a path, URL or
    pattern); a None matches nothing (`= NULL` becomes `IS NULL` on NOT NULL
    columns). The unique constraints on (authority, kid) and (authority,
    registration_number) keep the joins to one row."""
    credential = IssuedCredential.objects.filter(merchant__authority_id=OuterRef("pk"), jti=jti)
    return (
        Authority.objects.filter(issuer=issuer)
        .annotate(
            found_key=FilteredRelation("keys", condition=Q(keys__kid=kid)),
            found_merchant=FilteredRelation("merchants", condition=Q(merchants__registration_number=sub)),
            credential_status=Subquery(credential.values("status")[:1]),
            type_known=Exists(CredentialType.objects.filter(code=type_code)),
        )
        .values(
            *_AUTHORITY_FIELDS,
            *(f"found_key__{name}" for name in _KEY_FIELDS),
            *(f"found_merchant__{name}" for name in _MERCHANT_FIELDS),
            "credential_status",
            "type_known",
        )
        .first()
    )


def _part(row: dict, prefix: str, names: tuple[str, ...]) -> dict | None:
    """The columns of one joined row, or None when the join found nothing
    (its primary or natural key is NULL)."""
    part = {name: row[f"{prefix}__{name}"] for name in names}
    return part if part[names[0]] is not None else None


def _agreements(destination: str, authority_id: int) -> tuple[AgreementSnapshot, ...]:
    latest_version = (
        RecognitionAgreement.history.filter(id=OuterRef("pk")).order_by("-history_id").values("history_id")[:1]
    )
    rows = list(
        RecognitionAgreement.objects.filter(destination=destination, authority_id=authority_id)
        .annotate(history_id=Subquery(latest_version))
        .values("id", "status", "valid_from", "valid_until", "min_assurance", "legal_basis", "history_id")
        .order_by("id")
    )
    if not rows:
        return ()
    types: dict[int, set[str]] = {row["id"]: set() for row in rows}
    through = RecognitionAgreement.credential_types.through.objects.filter(recognitionagreement_id__in=types)
    for agreement_id, code in through.values_list("recognitionagreement_id", "credentialtype__code"):
        types[agreement_id].add(code)
    return tuple(AgreementSnapshot(**row, credential_types=frozenset(types[row["id"]])) for row in rows)


def load_subject(parsed: ParsedToken | Rejected, request: VerificationRequest) -> Subject:
    """Everything `decide` needs, read from the database: a fixed number of
    queries (one, plus two for the agreements of a cross-border request)
    whatever the size of the tables."""
    base = Subject(destination=request.destination, declared_origin=request.origin)
    if isinstance(parsed, Rejected):
        return base
    claims = parsed.claims
    issuer = _text(claims.get("iss"), 500)
    if issuer is None:
        return base
    sub, jti, type_code = (_text(claims.get(n), 200) for n in ("sub", "jti", "credential_type"))
    row = _registry_row(issuer=issuer, kid=_text(parsed.kid, 200), sub=sub, jti=jti, type_code=type_code)
    if row is None:
        return base
    authority = AuthoritySnapshot(**{name: row[name] for name in _AUTHORITY_FIELDS})
    key = _part(row, "found_key", _KEY_FIELDS)
    if key is not None:
        key["jwk"] = key.pop("public_jwk")
    merchant = _part(row, "found_merchant", _MERCHANT_FIELDS)
    return Subject(
        destination=request.destination,
        declared_origin=request.origin,
        authority=authority,
        key=KeySnapshot(**key) if key else None,
        merchant=MerchantSnapshot(**merchant) if merchant else None,
        credential_status=row["credential_status"],
        agreements=_agreements(request.destination, authority.id) if authority.country != request.destination else (),
        known_types=frozenset({type_code}) if row["type_known"] else frozenset(),
    )


def _audit_entry(
    client: str, request: VerificationRequest, parsed: Any, subject: Subject, decision: Decision
) -> AuditEntry:
    # The audit keeps what the token claimed (truncated), verified or not:
    # it is evidence of what was presented, not a statement of fact.
    claims = parsed.claims if isinstance(parsed, ParsedToken) else {}
    header = parsed.header if isinstance(parsed, ParsedToken) else {}

    def claimed(value: Any, limit: int) -> str:
        return value[:limit] if isinstance(value, str) else ""

    agreement = decision.agreement
    return AuditEntry(
        client=client[:150],
        destination=request.destination,
        # The origin is a fact only once the issuer's signature verified.
        origin=subject.authority.country if decision.verified and subject.authority else (request.origin or ""),
        declared_origin=request.origin or "",
        issuer=claimed(claims.get("iss"), 500),
        kid=claimed(header.get("kid"), 200),
        subject=claimed(claims.get("sub"), 200),
        jti=claimed(claims.get("jti"), 200),
        token_sha256=hashlib.sha256(request.token.encode("utf-8", "surrogatepass")).hexdigest(),
        decision="accepted" if decision.accepted else "rejected",
        reasons=decision.codes,
        agreement_id=agreement.id if agreement else None,
        agreement_version=agreement.history_id if agreement else None,
    )


def verify_credentials(requests: list[VerificationRequest], *, client: str) -> list[Outcome]:
    """Decide every request at one instant and audit each decision."""
    now = timezone.now()
    policy = current_policy()
    max_bytes = settings.REGISTRY["MAX_TOKEN_BYTES"]
    decided = []
    for request in requests:
        parsed = parse_token(request.token, max_bytes=max_bytes)
        subject = load_subject(parsed, request)
        decision = decide(parsed=parsed, subject=subject, now=now, policy=policy)
        decided.append((request, parsed, subject, decision))
    entries = [_audit_entry(client, *item) for item in decided]
    with transaction.atomic():
        records = audit_append(entries, at=now)
    return [
        Outcome(request=request, subject=subject, decision=decision, record=record, evaluated_at=now)
        for (request, _parsed, subject, decision), record in zip(decided, records, strict=True)
    ]
