"""What was in force at a given instant, answered from history (DESIGN §1,
§7 `recognition/`, §9 TRQP).

Every question is answered from the history tables: the latest version of
each agreement, authority and key whose history_date is at or before the
instant. Nothing here reads the current rows, so "now" and "last March" are
answered the same way.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps

from identity.models import Authority, AuthorityKey
from recognition.models import RecognitionAgreement


@dataclass(frozen=True)
class KeyState:
    kid: str
    alg: str
    status: str
    not_before: datetime
    not_after: datetime | None


@dataclass(frozen=True)
class AgreementState:
    id: int
    version: int  # history_id of the version in force at the instant
    authority_id: int
    destination: str
    origin: str
    status: str
    valid_from: datetime
    valid_until: datetime | None
    min_assurance: str
    credential_types: tuple[str, ...]
    legal_basis: str
    in_force: bool


@dataclass(frozen=True)
class AuthorityState:
    id: int
    issuer: str
    name: str
    country: str
    status: str
    max_assurance: str
    keys: tuple[KeyState, ...] = ()


@dataclass(frozen=True)
class Recognition:
    """Whether `destination` recognized `authority` at the instant, and under
    which agreement versions."""

    authority: AuthorityState
    recognized: bool
    basis: str  # "domestic", "agreement" or "" (not recognized)
    agreements: tuple[AgreementState, ...] = field(default_factory=tuple)

    @property
    def credential_types(self) -> tuple[str, ...]:
        return tuple(sorted({code for a in self.agreements if a.in_force for code in a.credential_types}))


def _latest(rows: Iterable) -> list:
    """The latest version of each object among history rows."""
    latest: dict[int, object] = {}
    for row in sorted(rows, key=lambda r: (r.history_date, r.history_id)):
        latest[row.id] = row
    return [row for row in latest.values() if row.history_type != "-"]


def authorities_at(at: datetime, *, country: str | None = None, issuer: str | None = None) -> list[AuthorityState]:
    rows = Authority.history.filter(history_date__lte=at)
    if country:
        rows = rows.filter(country=country)
    if issuer:
        rows = rows.filter(issuer=issuer)
    authorities = _latest(rows)
    keys: dict[int, list[KeyState]] = defaultdict(list)
    key_rows = AuthorityKey.history.filter(history_date__lte=at, authority_id__in=[a.id for a in authorities])
    for key in sorted(_latest(key_rows), key=lambda k: (k.not_before, k.kid)):
        keys[key.authority_id].append(KeyState(key.kid, key.alg, key.status, key.not_before, key.not_after))
    return [
        AuthorityState(
            id=a.id,
            issuer=a.issuer,
            name=a.name,
            country=a.country.code,
            status=a.status,
            max_assurance=a.max_assurance,
            keys=tuple(keys[a.id]),
        )
        for a in sorted(authorities, key=lambda a: (a.country.code, a.name, a.id))
    ]


def agreements_at(
    at: datetime,
    *,
    destination: str | None = None,
    origin: str | None = None,
    authority_ids: Iterable[int] | None = None,
) -> list[AgreementState]:
    rows = RecognitionAgreement.history.filter(history_date__lte=at)
    if destination:
        rows = rows.filter(destination=destination)
    if origin:
        rows = rows.filter(origin=origin)
    if authority_ids is not None:
        rows = rows.filter(authority_id__in=list(authority_ids))
    versions = _latest(rows)
    through = apps.get_model("recognition", "HistoricalRecognitionAgreement_credential_types")
    types: dict[int, set[str]] = defaultdict(set)
    pairs = through.objects.filter(history_id__in=[v.history_id for v in versions])
    for history_id, code in pairs.values_list("history_id", "credentialtype__code"):
        types[history_id].add(code)
    return [
        AgreementState(
            id=v.id,
            version=v.history_id,
            authority_id=v.authority_id,
            destination=v.destination.code,
            origin=v.origin.code,
            status=v.status,
            valid_from=v.valid_from,
            valid_until=v.valid_until,
            min_assurance=v.min_assurance,
            credential_types=tuple(sorted(types[v.history_id])),
            legal_basis=v.legal_basis,
            in_force=v.status == "active" and v.valid_from <= at and (v.valid_until is None or at < v.valid_until),
        )
        for v in sorted(versions, key=lambda v: v.id)
    ]


def recognize(authority: AuthorityState, destination: str, agreements: Iterable[AgreementState]) -> Recognition:
    """Domestic trust for the destination's own active authorities; otherwise
    an active authority is recognized while an agreement is in force."""
    mine = tuple(a for a in agreements if a.authority_id == authority.id and a.destination == destination)
    if authority.status != "active":
        return Recognition(authority=authority, recognized=False, basis="", agreements=mine)
    if authority.country == destination:
        return Recognition(authority=authority, recognized=True, basis="domestic")
    in_force = any(a.in_force for a in mine)
    return Recognition(authority=authority, recognized=in_force, basis="agreement" if in_force else "", agreements=mine)


def recognition_at(*, destination: str, origin: str, at: datetime) -> list[Recognition]:
    """Which authorities of `origin` `destination` recognized at `at`."""
    authorities = authorities_at(at, country=origin)
    agreements = [] if origin == destination else agreements_at(at, destination=destination, origin=origin)
    return [recognize(authority, destination, agreements) for authority in authorities]
