"""Verifying credentials: load the snapshots, decide, write the audit rows.

The clock is read once per request and every item of a batch is decided at
that instant. The rows are written in one transaction; the answer is built
from what was written.

What a request reads (issue 5: an answer costs little more than the web
framework and the signature):

- Authorities, keys, agreements and credential types change a few times a
  day. Each worker keeps them in a `RegistrySnapshot`, tagged with the
  registry stamp it was loaded at. Every write to those tables, however it is
  made, gives the stamp a new value in the same transaction (database
  triggers, migration 0005).
- Merchants and registry-issued credentials (millions of rows) are read for
  each request: one query for all of its tokens, which reads the stamp too.
  When the stamp is not the snapshot's, the snapshot is loaded again before
  anything is decided, so a change takes effect for the very next
  verification on every worker.

That query is written in SQL: built by the ORM it cost more than the rest of
the lookup (tests/api/test_hot_path_registry_cache.py compares the two on
the same inputs).
"""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from identity.models import Authority, AuthorityKey, CredentialType
from recognition.audit_models import Verification, execute_prepared
from recognition.models import RecognitionAgreement
from recognition.services.audit import AuditEntry, audit_commit
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
_AGREEMENT_FIELDS = ("id", "status", "valid_from", "valid_until", "min_assurance", "legal_basis", "history_id")


# The registry snapshot ---------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrySnapshot:
    """Authorities by issuer, keys by (authority, kid), agreements by
    (destination, authority) in id order, and the credential type codes, as
    they were at `stamp`."""

    stamp: int
    authorities: dict[str, AuthoritySnapshot]
    keys: dict[tuple[int, str], KeySnapshot]
    agreements: dict[tuple[str, int], tuple[AgreementSnapshot, ...]]
    type_codes: frozenset[str]


def load_snapshot(stamp: int) -> RegistrySnapshot:
    """Five queries whatever the size of the registry; rows loaded after the
    stamp was read are at least as new as it (a later change gives another
    stamp, and the next request loads again)."""
    authorities = {row["issuer"]: AuthoritySnapshot(**row) for row in Authority.objects.values(*_AUTHORITY_FIELDS)}
    keys = {}
    for row in AuthorityKey.objects.values("authority_id", *_KEY_FIELDS):
        authority_id = row.pop("authority_id")
        row["jwk"] = row.pop("public_jwk")
        keys[(authority_id, row["kid"])] = KeySnapshot(**row)
    latest_version = (
        RecognitionAgreement.history.filter(id=OuterRef("pk")).order_by("-history_id").values("history_id")[:1]
    )
    rows = list(
        RecognitionAgreement.objects.annotate(history_id=Subquery(latest_version))
        .values("destination", "authority_id", *_AGREEMENT_FIELDS)
        .order_by("id")
    )
    types: dict[int, set[str]] = defaultdict(set)
    through = RecognitionAgreement.credential_types.through.objects
    for agreement_id, code in through.values_list("recognitionagreement_id", "credentialtype__code"):
        types[agreement_id].add(code)
    agreements: dict[tuple[str, int], list[AgreementSnapshot]] = defaultdict(list)
    for row in rows:
        scope = (row.pop("destination"), row.pop("authority_id"))
        agreements[scope].append(AgreementSnapshot(**row, credential_types=frozenset(types[row["id"]])))
    return RegistrySnapshot(
        stamp=stamp,
        authorities=authorities,
        keys=keys,
        agreements={scope: tuple(found) for scope, found in agreements.items()},
        type_codes=frozenset(CredentialType.objects.values_list("code", flat=True)),
    )


# One per database this process reads; replaced whole, never changed.
_snapshots: dict[tuple[str, str], RegistrySnapshot] = {}


def registry_snapshot(stamp: int) -> RegistrySnapshot:
    """The snapshot at `stamp`: the one kept, or a new one."""
    where = (connection.alias, str(connection.settings_dict["NAME"]))
    snapshot = _snapshots.get(where)
    if snapshot is None or snapshot.stamp != stamp:
        snapshot = _snapshots[where] = load_snapshot(stamp)
    return snapshot


# Merchants and registry-issued credentials, read for each request ---------------------------


class Wanted(NamedTuple):
    """What a parsed token asks the registry for. Every lookup is a plain
    equality (a kid is never a path, URL or pattern); None matches nothing."""

    issuer: str
    kid: str | None
    sub: str | None
    jti: str | None
    type_code: str | None


class Party(NamedTuple):
    registration_number: str | None
    legal_name: str | None
    status: str | None
    credential_status: str | None


def wanted_of(parsed: ParsedToken | Rejected) -> Wanted | None:
    if isinstance(parsed, Rejected):
        return None
    claims = parsed.claims
    issuer = _text(claims.get("iss"), 500)
    if issuer is None:
        return None
    return Wanted(
        issuer=issuer,
        kid=_text(parsed.kid, 200),
        sub=_text(claims.get("sub"), 200),
        jti=_text(claims.get("jti"), 200),
        type_code=_text(claims.get("credential_type"), 200),
    )


# The unique constraints on (authority, registration_number) and on jti keep
# each item to one row.
_PARTIES = """
WITH wanted (n, issuer, sub, jti) AS (VALUES {values})
SELECT wanted.n, stamp.stamp, merchant.registration_number, merchant.legal_name, merchant.status,
       (SELECT credential.status
          FROM identity_issuedcredential credential
          JOIN identity_merchant holder ON holder.id = credential.merchant_id
         WHERE credential.jti = wanted.jti AND holder.authority_id = authority.id)
  FROM wanted
 CROSS JOIN recognition_registry_stamp stamp
  LEFT JOIN identity_authority authority ON authority.issuer = wanted.issuer
  LEFT JOIN identity_merchant merchant
         ON merchant.authority_id = authority.id AND merchant.registration_number = wanted.sub
"""


_PARTY_TYPES = ("integer", "text", "text", "text")


@lru_cache(maxsize=128)
def _parties_sql(count: int) -> str:
    # On one line: drivers scan the whole text for placeholders on every call.
    return " ".join(_PARTIES.split()).format(values=", ".join(["(%s, %s, %s, %s)"] * count))


def read_parties(wanted: Sequence[Wanted]) -> tuple[int, list[Party]]:
    """The registry stamp, and each item's merchant and credential status:
    one query for all of them."""
    params: list[Any] = []
    for n, item in enumerate(wanted):
        params += (n, item.issuer, item.sub, item.jti)
    with connection.cursor() as cursor:
        name = f"recognition_parties_{len(wanted)}"
        execute_prepared(cursor, name, _parties_sql(len(wanted)), _PARTY_TYPES * len(wanted), params)
        rows = cursor.fetchall()
    if len(rows) != len(wanted):  # the stamp's row is made by migration 0005
        raise RuntimeError("recognition_registry_stamp has no row; run the migrations")
    parties: list[Party] = [None] * len(rows)  # type: ignore[list-item]  # each filled below
    for n, _stamp, *party in rows:
        parties[n] = Party(*party)
    return rows[0][1], parties


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
        agreement_version=agreement.history_id if agreement else None,
    )


def outcomes_of(decided: Sequence[Decided], records: Sequence[Verification], now: datetime) -> list[Outcome]:
    return [
        Outcome(request=item.request, subject=item.subject, decision=item.decision, record=record, evaluated_at=now)
        for item, record in zip(decided, records, strict=True)
    ]


def verify_credentials(requests: list[VerificationRequest], *, client: str) -> list[Outcome]:
    """Decide every request at one instant and audit each decision."""
    now = timezone.now()
    decided = decide_all(requests, now=now)
    # Committed and on disk before anyone hears the answer.
    records = audit_commit([audit_entry(client, item) for item in decided], at=now)
    return outcomes_of(decided, records, now)
