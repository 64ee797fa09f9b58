"""The recognition matrix's cell states as a pure function of the snapshots
(recognition/services/matrix.py). The page for staff:
tests/recognition/web/test_views.py; the same data as JSON:
tests/api/test_matrix.py."""

from datetime import timedelta

import pytest

from recognition.services.matrix import (
    AuthorityEntry,
    CellState,
    authority_entry,
    build_matrix,
    classify,
)
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot
from tests.support.snapshots import AT, COMPROMISED_KEY, authority_state

# Snapshots for the pure function -------------------------------------------


authority = authority_state


def agreement(
    id: int, authority_id: int, *, status: str = "active", types: tuple[str, ...] = ("merchant-identity",), **kw
) -> AgreementSnapshot:
    fields = {
        "id": id,
        "version": id,
        "authority_id": authority_id,
        "destination": "CN",
        "origin": "CL",
        "status": status,
        "valid_from": AT - timedelta(days=10),
        "valid_until": None,
        "min_assurance": "low",
        "credential_types": types,
        "legal_basis": "memo",
    }
    fields.update(kw)
    return AgreementSnapshot(**fields)


def state_of(authorities: list[AuthoritySnapshot], agreements: list[AgreementSnapshot]) -> str:
    entries = [authority_entry(a, "CN", [g for g in agreements if g.authority_id == a.id], AT) for a in authorities]
    return classify(entries)


CASES = [
    ("one authority, agreement in force", [authority(1)], [agreement(10, 1)], CellState.RECOGNIZED),
    (
        "two authorities, both for the same types",
        [authority(1), authority(2)],
        [agreement(10, 1), agreement(11, 2)],
        CellState.RECOGNIZED,
    ),
    (
        "a suspended authority does not make the pair partial",
        [authority(1), authority(2, status="suspended")],
        [agreement(10, 1)],
        CellState.RECOGNIZED,
    ),
    (
        "one of two active authorities recognized",
        [authority(1), authority(2)],
        [agreement(10, 1)],
        CellState.PARTLY_RECOGNIZED,
    ),
    (
        "both recognized, not for the same types",
        [authority(1), authority(2)],
        [agreement(10, 1), agreement(11, 2, types=("export-licence",))],
        CellState.PARTLY_RECOGNIZED,
    ),
    (
        "agreement suspended inside its window",
        [authority(1)],
        [agreement(10, 1, status="suspended")],
        CellState.SUSPENDED,
    ),
    (
        "agreement in force for a suspended authority",
        [authority(1, status="suspended")],
        [agreement(10, 1)],
        CellState.SUSPENDED,
    ),
    (
        "suspended agreement whose window has ended",
        [authority(1)],
        [agreement(10, 1, status="suspended", valid_until=AT - timedelta(days=1))],
        CellState.NONE,
    ),
    ("no agreement", [authority(1)], [], CellState.NONE),
    ("only a draft", [authority(1)], [agreement(10, 1, status="draft")], CellState.NONE),
    ("only a terminated agreement", [authority(1)], [agreement(10, 1, status="terminated")], CellState.NONE),
    (
        "active but expired",
        [authority(1)],
        [agreement(10, 1, valid_until=AT - timedelta(seconds=1))],
        CellState.NONE,
    ),
    (
        "active but not yet started",
        [authority(1)],
        [agreement(10, 1, valid_from=AT + timedelta(seconds=1))],
        CellState.NONE,
    ),
    ("agreement in force, authority revoked", [authority(1, status="revoked")], [agreement(10, 1)], CellState.NONE),
    (
        "agreement in force, no usable key",
        [authority(1, keys=(COMPROMISED_KEY,))],
        [agreement(10, 1)],
        CellState.NONE,
    ),
    ("agreement in force, no key at all", [authority(1, keys=())], [agreement(10, 1)], CellState.NONE),
    (
        "suspended but with no usable key: not held",
        [authority(1, keys=(COMPROMISED_KEY,))],
        [agreement(10, 1, status="suspended")],
        CellState.NONE,
    ),
    (
        "authority suspended and no usable key: not held",
        [authority(1, status="suspended", keys=())],
        [agreement(10, 1)],
        CellState.NONE,
    ),
    (
        "one of two active authorities without a usable key",
        [authority(1), authority(2, keys=(COMPROMISED_KEY,))],
        [agreement(10, 1), agreement(11, 2)],
        CellState.PARTLY_RECOGNIZED,
    ),
    (
        "minimum assurance above the authority's accreditation: recognized on paper, every credential rejected",
        [authority(1, max_assurance="low")],
        [agreement(10, 1, min_assurance="substantial")],
        CellState.CANNOT_SUCCEED,
    ),
    (
        "every recognized authority cannot succeed, another is not recognized",
        [authority(1, max_assurance="low"), authority(2)],
        [agreement(10, 1, min_assurance="high")],
        CellState.CANNOT_SUCCEED,
    ),
    (
        "one authority can succeed, the other cannot: partly",
        [authority(1), authority(2, max_assurance="low")],
        [agreement(10, 1, min_assurance="substantial"), agreement(11, 2, min_assurance="substantial")],
        CellState.PARTLY_RECOGNIZED,
    ),
    (
        "a second agreement the authority can meet: recognized",
        [authority(1, max_assurance="low")],
        [agreement(10, 1, min_assurance="substantial"), agreement(11, 1, min_assurance="low")],
        CellState.RECOGNIZED,
    ),
    (
        "an agreement at the accreditation's level succeeds",
        [authority(1, max_assurance="substantial")],
        [agreement(10, 1, min_assurance="substantial")],
        CellState.RECOGNIZED,
    ),
    (
        "recognized beats suspended elsewhere",
        [authority(1), authority(2)],
        [agreement(10, 1), agreement(11, 2, status="suspended")],
        CellState.PARTLY_RECOGNIZED,
    ),
]


@pytest.mark.parametrize(("authorities", "agreements", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cell_state_is_a_pure_function_of_the_snapshots(authorities, agreements, expected):
    assert state_of(authorities, agreements) == expected


def test_window_edges_are_from_inclusive_until_exclusive():
    assert state_of([authority(1)], [agreement(10, 1, valid_from=AT)]) == CellState.RECOGNIZED
    assert state_of([authority(1)], [agreement(10, 1, valid_until=AT)]) == CellState.NONE
    suspended_at_edge = agreement(10, 1, status="suspended", valid_until=AT)
    assert state_of([authority(1)], [suspended_at_edge]) == CellState.NONE


def test_build_matrix_marks_the_diagonal_domestic_and_reciprocal_pairs():
    cn, cl, kz = authority(1, "CN"), authority(2, "CL"), authority(3, "KZ")
    cn_recognizes_cl = agreement(10, 2)
    cl_recognizes_cn = agreement(11, 1, destination="CL", origin="CN", types=("export-licence",))
    matrix = build_matrix(AT, [kz, cn, cl], [cn_recognizes_cl, cl_recognizes_cn])
    assert matrix.countries == ("CL", "CN", "KZ")
    cells = {(c.destination, c.origin): c for c in matrix.cells}
    assert len(cells) == 9
    assert {cells[(c, c)].state for c in matrix.countries} == {CellState.DOMESTIC}
    assert cells[("CN", "CL")].state == CellState.RECOGNIZED and cells[("CN", "CL")].reciprocal
    assert cells[("CL", "CN")].reciprocal and cells[("CL", "CN")].credential_types == ("export-licence",)
    assert cells[("CN", "KZ")].state == CellState.NONE and not cells[("CN", "KZ")].reciprocal
    assert [code for code, _ in matrix.rows()] == ["CL", "CN", "KZ"]
    assert [c.origin for c in matrix.rows()[1][1]] == ["CL", "CN", "KZ"]


def test_the_diagonal_marks_an_authority_without_a_usable_key_not_recognized():
    keyless, keyed = authority(1, "CN", keys=()), authority(2, "CN")
    (cell,) = build_matrix(AT, [keyless, keyed], []).cells
    assert cell.state == CellState.DOMESTIC
    assert [(e.authority.id, e.recognized) for e in cell.authorities] == [(1, False), (2, True)]


def test_a_cell_that_cannot_succeed_is_not_reciprocal_and_names_the_problem():
    cn, kh = authority(1, "CN"), authority(2, "KH", max_assurance="low")
    cn_recognizes_kh = agreement(10, 2, origin="KH", min_assurance="substantial")
    kh_recognizes_cn = agreement(11, 1, destination="KH", origin="CN")
    cells = {
        (c.destination, c.origin): c for c in build_matrix(AT, [cn, kh], [cn_recognizes_kh, kh_recognizes_cn]).cells
    }
    cannot = cells[("CN", "KH")]
    assert (cannot.state, cannot.reciprocal) == (CellState.CANNOT_SUCCEED, False)
    assert not cells[("KH", "CN")].reciprocal
    (entry,) = cannot.authorities
    assert entry.recognized  # on paper, as GET recognition/ and TRQP answer
    assert [p.code for p in entry.problems] == ["assurance_above_accreditation"]
    assert cannot.credential_types == ("merchant-identity",)


def test_drafts_are_left_out_of_the_cell():
    entry: AuthorityEntry = authority_entry(authority(1), "CN", [agreement(10, 1, status="draft")], AT)
    assert entry.agreements == () and not entry.held
