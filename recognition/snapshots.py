"""The registry as the decision and the point-in-time answers see it: frozen
snapshots of authorities, keys, merchants and agreements, each rule about
them written once as a method (`AgreementSnapshot.in_force(at)`,
`KeySnapshot.usable(at)`) in merchant_verifier.model, read here from the
registry's rows, and the registry read of the verification path.

The decision (merchant_verifier.decide), `GET recognition/`, the matrix, the trust
lists and TRQP all ask these methods, so they cannot disagree about what is
in force or which key could sign.

What a verification reads (DESIGN §5: an answer costs little more than the
web framework and the signature):

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
the lookup.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery

from identity.models import Authority, AuthorityKey, CredentialType
from merchant_verifier import model
from merchant_verifier.model import MerchantSnapshot, Policy
from merchant_verifier.tokens import ParsedToken, Rejected
from recognition.db import execute_direct, execute_prepared
from recognition.models import RecognitionAgreement

__all__ = [
    "AgreementSnapshot",
    "AuthoritySnapshot",
    "KeySnapshot",
    "MerchantSnapshot",
    "Policy",
    "RegistrySnapshot",
    "current_policy",
    "read_parties",
    "registry_snapshot",
    "wanted_of",
]


def current_policy() -> Policy:
    registry = settings.REGISTRY
    return Policy(
        leeway=timedelta(seconds=registry["VERIFY_LEEWAY_SECONDS"]),
        max_lifetime=timedelta(days=registry["MAX_CREDENTIAL_LIFETIME_DAYS"]),
    )


# The snapshots and their rules are merchant_verifier's (merchant_verifier.model):
# the registry adds only how each is read from a row.


class KeySnapshot(model.KeySnapshot):
    @classmethod
    def of(cls, key: Any) -> "KeySnapshot":
        """The snapshot of a key row, current or historical."""
        return cls(
            id=key.id,
            kid=key.kid,
            alg=key.alg,
            jwk=key.public_jwk,
            status=key.status,
            not_before=key.not_before,
            not_after=key.not_after,
            retired_at=key.retired_at,
            compromised_at=key.compromised_at,
        )


class AgreementSnapshot(model.AgreementSnapshot):
    @classmethod
    def of(cls, agreement: RecognitionAgreement, *, version: int | None = None) -> "AgreementSnapshot":
        """The snapshot of an agreement row (its credential types prefetched
        or read); `version` is the history_id of this version."""
        return cls(
            id=agreement.id,
            version=version,
            authority_id=agreement.authority_id,
            destination=str(agreement.destination),
            origin=str(agreement.origin),
            status=agreement.status,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
            min_assurance=agreement.min_assurance,
            credential_types=tuple(sorted(t.code for t in agreement.credential_types.all())),
            legal_basis=agreement.legal_basis,
        )


class AuthoritySnapshot(model.AuthoritySnapshot):
    @classmethod
    def of(cls, authority: Any, *, keys: tuple[KeySnapshot, ...] = ()) -> "AuthoritySnapshot":
        """The snapshot of an authority row, current or historical, with the
        keys given."""
        return cls(
            id=authority.id,
            issuer=authority.issuer,
            name=authority.name,
            country=str(authority.country),
            status=authority.status,
            max_assurance=authority.max_assurance,
            keys=keys,
        )


_AUTHORITY_FIELDS = ("id", "issuer", "name", "country", "status", "max_assurance")
_KEY_FIELDS = ("id", "kid", "alg", "public_jwk", "status", "not_before", "not_after", "retired_at", "compromised_at")
_AGREEMENT_FIELDS = (
    "id", "authority_id", "destination", "origin", "status", "valid_from", "valid_until", "min_assurance",
    "legal_basis",
)  # fmt: skip


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
        RecognitionAgreement.objects.annotate(version=Subquery(latest_version))
        .values("version", *_AGREEMENT_FIELDS)
        .order_by("id")
    )
    types: dict[int, set[str]] = defaultdict(set)
    through = RecognitionAgreement.credential_types.through.objects
    for agreement_id, code in through.values_list("recognitionagreement_id", "credentialtype__code"):
        types[agreement_id].add(code)
    agreements: dict[tuple[str, int], list[AgreementSnapshot]] = defaultdict(list)
    for row in rows:
        agreement = AgreementSnapshot(**row, credential_types=tuple(sorted(types[row["id"]])))
        agreements[(agreement.destination, agreement.authority_id)].append(agreement)
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


def registry_stamp() -> int:
    """The registry stamp alone: one small query, for readers that keep
    something built from the registry's rows (the signed trust lists)."""
    with connection.cursor() as cursor:
        execute_direct(cursor, "SELECT stamp FROM recognition_registry_stamp WHERE id = 1")
        row = cursor.fetchone()
    if row is None:  # the row is made by migration 0005
        raise RuntimeError("recognition_registry_stamp has no row; run the migrations")
    return row[0]


# Merchants and registry-issued credentials, read for each request ---------------------------


def _text(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


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
SELECT wanted.n, (SELECT stamp FROM recognition_registry_stamp),
       merchant.registration_number, merchant.legal_name, merchant.status,
       (SELECT credential.status
          FROM identity_issuedcredential credential
          JOIN identity_merchant holder ON holder.id = credential.merchant_id
         WHERE credential.jti = wanted.jti AND holder.authority_id = authority.id)
  FROM wanted
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
    if rows and rows[0][1] is None:  # the stamp's row is made by migration 0005
        raise RuntimeError("recognition_registry_stamp has no row; run the migrations")
    parties: list[Party] = [None] * len(rows)  # type: ignore[list-item]  # each filled below
    for n, _stamp, *party in rows:
        parties[n] = Party(*party)
    return rows[0][1], parties
