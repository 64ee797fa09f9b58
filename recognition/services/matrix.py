"""The recognition matrix: who recognized whom at an instant, country by
country (DESIGN §1, §7 `recognition/`).

A cell is one border pair (destination D, origin O). Its state, for D ≠ O:

- `recognized`: O has at least one active authority; every active authority
  of O is recognized by D under an agreement in force, and all of them for
  the same set of credential types.
- `cannot_succeed`: recognized on paper, every credential rejected: some
  active authority of O is recognized, and every recognized one is under
  agreements none of which can succeed (`feasibility.recognition_problems`).
  In practice the agreement's minimum assurance is above what the authority
  is accredited to issue (the other problems, a window ended, a suspension,
  no usable key, already make the authority unrecognized).
- `partly_recognized`: at least one active authority of O is recognized and
  can succeed, but not every active one, or not all of them for the same
  credential types.
- `suspended`: no authority of O is recognized, and at least one would be but
  for a suspension: an agreement suspended while its validity window contains
  the instant, or an agreement in force for an authority that is itself
  suspended, the authority having a usable key. Reactivation (or
  reinstatement) restores it without a new agreement.
- `none`: nothing of the above: no agreement, or only drafts, terminated
  agreements, active ones outside their validity window (expired or not yet
  started), agreements for revoked authorities, or authorities none of whose
  keys was usable then.

"Recognized" is `point_in_time.recognize`: the terms hold and at least one
key of the authority was usable at the instant (none registered yet, every
one compromised, or none able to sign a credential still valid then: not
recognized), so the matrix, `GET recognition/` and TRQP agree.

The diagonal (D = O) is `domestic`: a country trusts its own active
authorities without an agreement (DESIGN §1); each is marked recognized
under the same key condition. A pair is `reciprocal` when both directions
are recognized or partly recognized.

`GET recognition/` and TRQP keep answering "recognized" for a pair in
`cannot_succeed` (DESIGN §7, §9: recognized or not at an instant, by the
terms and the keys); the matrix alone says the recognition cannot succeed,
and each authority of a cell carries its problems.

Credential types are compared within the pair, not against every registered
type: the CredentialType table keeps no history, so "every type registered at
that date" could not be answered from history. The types a cell covers are
listed with it, so a type-limited agreement stays visible.

Drafts never change a state and are left out of the matrix entirely, as they
are from the public agreements list (DESIGN §10).

Everything is answered from history through `point_in_time`: four queries for
the whole matrix, whatever the number of countries.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import models

from recognition.services.feasibility import Problem, recognition_problems
from recognition.services.point_in_time import agreements_at, authorities_at, recognize
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot

ACTIVE, SUSPENDED, DRAFT = "active", "suspended", "draft"


class CellState(models.TextChoices):
    DOMESTIC = "domestic", "Domestic"
    RECOGNIZED = "recognized", "Recognized"
    CANNOT_SUCCEED = "cannot_succeed", "Recognized on paper, every credential rejected"
    PARTLY_RECOGNIZED = "partly_recognized", "Partly recognized"
    SUSPENDED = "suspended", "Suspended"
    NONE = "none", "None"


RECIPROCAL_STATES = frozenset({CellState.RECOGNIZED, CellState.PARTLY_RECOGNIZED})


@dataclass(frozen=True)
class AuthorityEntry:
    """One authority of the origin, as the destination saw it at the instant."""

    authority: AuthoritySnapshot
    recognized: bool
    has_usable_key: bool  # at the instant
    held: bool  # not recognized only because of a suspension
    credential_types: tuple[str, ...]  # recognized for these (empty unless recognized)
    agreements: tuple[AgreementSnapshot, ...]  # every non-draft agreement of the destination for it
    problems: tuple[Problem, ...] = ()  # why none of those agreements can succeed (empty if one can, or none)


@dataclass(frozen=True)
class Cell:
    destination: str
    origin: str
    state: str
    reciprocal: bool
    authorities: tuple[AuthorityEntry, ...]

    @property
    def credential_types(self) -> tuple[str, ...]:
        return tuple(sorted({code for entry in self.authorities for code in entry.credential_types}))


@dataclass(frozen=True)
class Matrix:
    at: datetime
    countries: tuple[str, ...]
    cells: tuple[Cell, ...]  # destination-major, then origin, both in country order

    def rows(self) -> list[tuple[str, list[Cell]]]:
        """(destination, its cells in origin order) for each country."""
        width = len(self.countries)
        return [(code, list(self.cells[i * width : (i + 1) * width])) for i, code in enumerate(self.countries)]


def authority_entry(
    authority: AuthoritySnapshot, destination: str, agreements: Iterable[AgreementSnapshot], at: datetime
) -> AuthorityEntry:
    """How `destination` saw one foreign authority at `at`, from its
    agreements (others among `agreements` are ignored; drafts too)."""
    mine = tuple(
        a for a in agreements if a.authority_id == authority.id and a.destination == destination and a.status != DRAFT
    )
    recognition = recognize(authority, destination, mine, at)
    in_force = [a for a in mine if a.in_force(at)]
    held = (
        not recognition.recognized
        and recognition.has_usable_key
        and (
            any(a.status == SUSPENDED and a.in_window(at) for a in mine)
            or (authority.status == SUSPENDED and bool(in_force))
        )
    )
    return AuthorityEntry(
        authority=authority,
        recognized=recognition.recognized,
        has_usable_key=recognition.has_usable_key,
        held=held,
        credential_types=recognition.credential_types if recognition.recognized else (),
        agreements=mine,
        problems=tuple(recognition_problems(mine, authority, at)),
    )


def classify(entries: Sequence[AuthorityEntry]) -> str:
    """The state of a foreign pair from its origin's authority entries (see
    the module docstring for the definitions)."""
    active = [e for e in entries if e.authority.status == ACTIVE]
    recognized = [e for e in active if e.recognized]
    succeeding = [e for e in recognized if not e.problems]
    if recognized and not succeeding:
        return CellState.CANNOT_SUCCEED
    if succeeding:
        same_types = len({e.credential_types for e in succeeding}) == 1
        return CellState.RECOGNIZED if len(succeeding) == len(active) and same_types else CellState.PARTLY_RECOGNIZED
    if any(e.held for e in entries):
        return CellState.SUSPENDED
    return CellState.NONE


def domestic_entry(authority: AuthoritySnapshot, at: datetime) -> AuthorityEntry:
    recognition = recognize(authority, authority.country, (), at)
    return AuthorityEntry(
        authority=authority,
        recognized=recognition.recognized,
        has_usable_key=recognition.has_usable_key,
        held=False,
        credential_types=(),
        agreements=(),
    )


def build_matrix(
    at: datetime, authorities: Iterable[AuthoritySnapshot], agreements: Iterable[AgreementSnapshot]
) -> Matrix:
    """Every pair of the countries that had authorities at `at`. Pure: the
    snapshots come from `authorities_at` and `agreements_at`."""
    by_country: dict[str, list[AuthoritySnapshot]] = defaultdict(list)
    for authority in authorities:
        by_country[authority.country].append(authority)
    by_pair: dict[tuple[str, int], list[AgreementSnapshot]] = defaultdict(list)
    for agreement in agreements:
        by_pair[(agreement.destination, agreement.authority_id)].append(agreement)
    countries = tuple(sorted(by_country))
    states: dict[tuple[str, str], tuple[str, tuple[AuthorityEntry, ...]]] = {}
    for destination in countries:
        for origin in countries:
            if origin == destination:
                entries = tuple(domestic_entry(a, at) for a in by_country[origin])
                states[(destination, origin)] = (CellState.DOMESTIC, entries)
                continue
            entries = tuple(
                authority_entry(a, destination, by_pair[(destination, a.id)], at) for a in by_country[origin]
            )
            states[(destination, origin)] = (classify(entries), entries)
    cells = tuple(
        Cell(
            destination=destination,
            origin=origin,
            state=state,
            reciprocal=state in RECIPROCAL_STATES and states[(origin, destination)][0] in RECIPROCAL_STATES,
            authorities=entries,
        )
        for (destination, origin), (state, entries) in states.items()
    )
    return Matrix(at=at, countries=countries, cells=cells)


def recognition_matrix(*, at: datetime) -> Matrix:
    """The matrix at `at`, from history: a bounded number of queries (the
    authorities, their keys, the agreements, their credential types)."""
    return build_matrix(at, authorities_at(at), agreements_at(at))
