"""What was in force at a given instant, answered from history (DESIGN §1,
§7 `recognition/`, §9 TRQP).

Every question is answered from the history tables: the latest version of
each agreement, authority and key whose history_date is at or before the
instant. Nothing here reads the current rows, so "now" and "last March" are
answered the same way.

An authority is recognized at an instant when the terms hold (active and of
the destination itself: domestic trust; or active with an agreement of the
destination in force) and at least one of its keys was usable then: could
have signed a credential the verification would accept at that instant
(`KeySnapshot.usable`). Each state is the one recorded then: a compromise
recorded later does not rewrite the past. Without a usable key every
credential of the authority is refused (unknown_key, key_compromised, key_not_valid_at_issuance or
expired, DESIGN §5), so calling it recognized would promise what the
verification denies. The matrix and TRQP recognition ask `recognize`; the
trust lists list the authorities whose terms hold and carry every key with
its state, so that an offline verifier refuses the same credentials for the
same reasons as the API (recognition/services/trust_lists.py).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps

from identity.models import Authority, AuthorityKey
from recognition.models import RecognitionAgreement
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot, KeySnapshot, current_policy


@dataclass(frozen=True)
class Recognition:
    """Whether `destination` recognized `authority` at `at`, and under which
    agreement versions."""

    authority: AuthoritySnapshot
    at: datetime
    recognized: bool  # terms_hold and a usable key
    basis: str  # "domestic", "agreement" or "" (not recognized)
    agreements: tuple[AgreementSnapshot, ...] = field(default_factory=tuple)
    terms_hold: bool = False  # domestic and active, or active under an agreement in force; keys aside
    has_usable_key: bool = False

    @property
    def credential_types(self) -> tuple[str, ...]:
        return tuple(sorted({code for a in self.agreements if a.in_force(self.at) for code in a.credential_types}))


def _latest(rows: Iterable) -> list:
    """The latest version of each object among history rows."""
    latest: dict[int, object] = {}
    for row in sorted(rows, key=lambda r: (r.history_date, r.history_id)):
        latest[row.id] = row
    return [row for row in latest.values() if row.history_type != "-"]


def authorities_at(at: datetime, *, country: str | None = None, issuer: str | None = None) -> list[AuthoritySnapshot]:
    """Each authority as it stood at `at`, with its keys as they stood then."""
    rows = Authority.history.filter(history_date__lte=at)
    if country:
        rows = rows.filter(country=country)
    if issuer:
        rows = rows.filter(issuer=issuer)
    authorities = _latest(rows)
    keys: dict[int, list[KeySnapshot]] = defaultdict(list)
    key_rows = AuthorityKey.history.filter(history_date__lte=at, authority_id__in=[a.id for a in authorities])
    for key in sorted(_latest(key_rows), key=lambda k: (k.not_before, k.kid)):
        keys[key.authority_id].append(KeySnapshot.of(key))
    return [
        AuthoritySnapshot.of(a, keys=tuple(keys[a.id]))
        for a in sorted(authorities, key=lambda a: (a.country.code, a.name, a.id))
    ]


def agreements_at(
    at: datetime,
    *,
    destination: str | None = None,
    origin: str | None = None,
    authority_ids: Iterable[int] | None = None,
) -> list[AgreementSnapshot]:
    """Each agreement's version in force at `at` (the latest recorded by then)."""
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
        AgreementSnapshot(
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
        )
        for v in sorted(versions, key=lambda v: v.id)
    ]


def recognize(
    authority: AuthoritySnapshot, destination: str, agreements: Iterable[AgreementSnapshot], at: datetime
) -> Recognition:
    """Domestic trust for the destination's own active authorities; otherwise
    an active authority while an agreement is in force. Either way, only
    while one of its keys was usable (module docstring)."""
    domestic = authority.country == destination
    mine = (
        ()
        if domestic
        else tuple(a for a in agreements if a.authority_id == authority.id and a.destination == destination)
    )
    terms = authority.status == "active" and (domestic or any(a.in_force(at) for a in mine))
    usable = authority.has_usable_key(at, max_lifetime=current_policy().max_lifetime)
    recognized = terms and usable
    basis = ("domestic" if domestic else "agreement") if recognized else ""
    return Recognition(
        authority=authority,
        at=at,
        recognized=recognized,
        basis=basis,
        agreements=mine,
        terms_hold=terms,
        has_usable_key=usable,
    )


def recognition_at(*, destination: str, origin: str, at: datetime) -> list[Recognition]:
    """Which authorities of `origin` `destination` recognized at `at`."""
    authorities = authorities_at(at, country=origin)
    agreements = [] if origin == destination else agreements_at(at, destination=destination, origin=origin)
    return [recognize(authority, destination, agreements, at) for authority in authorities]
