"""The recognition matrix: the cell states as a pure
function, the page for staff (and who may not see it), the date picker
answered from history, and the same data as JSON."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from identity.services.authorities import authority_create, authority_suspend
from recognition.services import agreements as svc
from recognition.services.matrix import (
    AuthorityEntry,
    CellState,
    authority_entry,
    build_matrix,
    classify,
)
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot
from tests.support.actors import PASSWORD
from tests.support.clock import T0
from tests.support.snapshots import AT, COMPROMISED_KEY, authority_state

PAGE = "/recognition/matrix/"
API = "/api/v1/recognition/matrix/"


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


def test_drafts_are_left_out_of_the_cell():
    entry: AuthorityEntry = authority_entry(authority(1), "CN", [agreement(10, 1, status="draft")], AT)
    assert entry.agreements == () and not entry.held


# The page -------------------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_states(html: str) -> dict[tuple[str, str], str]:
    cells = re.findall(r'data-destination="(\w+)" data-origin="(\w+)" data-state="(\w+)"', html)
    return {(d, o): state for d, o, state in cells}


@pytest.mark.parametrize("who", ["rita", "root", "alice"])
def test_page_shows_the_grid_to_staff_with_a_role(world, who):
    response = logged_in(getattr(world, who)).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    states = page_states(html)
    assert states[("CN", "CL")] == "recognized"
    assert states[("CN", "KZ")] == "none"
    assert states[("CN", "CN")] == "domestic"
    assert states[("CL", "CN")] == "none"
    assert len(states) == 9
    assert "Legend" in html and "Partly recognized" in html and "Suspended" in html
    assert 'type="date"' in html and 'name="at"' in html


def test_page_loads_no_external_asset(world):
    response = logged_in(world.rita).get(PAGE)
    html = response.content.decode()
    for tag in re.findall(r"<(?:link|script|img|iframe|object|embed)\b[^>]*>", html, flags=re.IGNORECASE):
        assert "http://" not in tag and "https://" not in tag, tag
    assert "<script" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_cell_title_lists_the_authorities_and_agreement_ids(world):
    html = logged_in(world.rita).get(PAGE).content.decode()
    (title,) = re.findall(r'data-destination="CN" data-origin="CL" data-state="\w+" title="([^"]*)"', html)
    assert world.cl.authority.issuer in title
    assert f"#{world.cn_recognizes_cl.pk} active, in force" in title


def test_anonymous_is_sent_to_the_admin_login(world):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/recognition/matrix/")


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(world):
    user = get_user_model().objects.create_user("nora", password=PASSWORD)
    response = logged_in(user).get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_a_role_is_forbidden(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    response = logged_in(stan).get(PAGE)
    assert response.status_code == 403
    assert b"data-state" not in response.content


def test_page_is_read_only(world):
    assert logged_in(world.rita).post(PAGE).status_code == 405


def test_bad_date_is_a_clear_message_on_the_page(world):
    response = logged_in(world.rita).get(PAGE, {"at": "2026-02-30"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Cannot show the matrix at that date" in html and "not a valid date" in html
    assert "data-state" not in html


@pytest.mark.parametrize("who", ["rita", "root", "alice"])
def test_admin_header_links_to_the_matrix_for_users_with_a_role(world, who):
    html = logged_in(getattr(world, who)).get("/admin/").content.decode()
    assert 'href="/recognition/matrix/"' in html


def test_admin_header_has_no_matrix_link_for_staff_without_a_role(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    html = logged_in(stan).get("/admin/").content.decode()
    assert "Log out" in html
    assert 'href="/recognition/matrix/"' not in html


# Timelines (the clock technique of test_point_in_time) ------------------------


def test_date_picker_shows_the_state_before_an_agreement_existed(world, clock):
    clock.now = T0 + timedelta(days=1, hours=12)
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
        valid_from=T0,
        activate=True,
    )
    clock.now = T0 + timedelta(days=5)
    client = logged_in(world.rita)
    before = client.get(PAGE, {"at": T0.date().isoformat()})
    after = client.get(PAGE, {"at": (T0 + timedelta(days=2)).date().isoformat()})
    now = client.get(PAGE)
    assert page_states(before.content.decode())[("CN", "KZ")] == "none"
    assert page_states(after.content.decode())[("CN", "KZ")] == "recognized"
    assert page_states(now.content.decode())[("CN", "KZ")] == "recognized"
    assert f'value="{T0.date().isoformat()}"' in before.content.decode()
    exact = client.get(PAGE, {"at": (T0 + timedelta(days=1, hours=12)).isoformat().replace("+00:00", "Z")})
    assert page_states(exact.content.decode())[("CN", "KZ")] == "recognized"


def test_json_time_travel_follows_suspension_and_reactivation(world, clock):
    agreement = world.cn_recognizes_cl
    clock.now = suspended = T0 + timedelta(days=1)
    svc.agreement_suspend(agreement=agreement)
    clock.now = reactivated = T0 + timedelta(days=2)
    svc.agreement_activate(agreement=agreement)
    clock.now = T0 + timedelta(days=3)
    for at, state in [(T0, "recognized"), (suspended, "suspended"), (reactivated, "recognized")]:
        body = APIClient().get(API, {"at": at.isoformat().replace("+00:00", "Z")}).json()
        (cell,) = [c for c in body["cells"] if (c["destination"], c["origin"]) == ("CN", "CL")]
        assert cell["state"] == state, at


def test_before_any_authority_the_matrix_is_empty(world):
    body = APIClient().get(API, {"at": "2001-01-01"}).json()
    assert body == {"at": "2001-01-01T00:00:00Z", "countries": [], "cells": []}
    page = logged_in(world.rita).get(PAGE, {"at": "2001-01-01"})
    assert page.status_code == 200 and b"No authority was registered" in page.content


# States made with the services -------------------------------------------------


def json_cell(destination: str, origin: str, **params) -> dict:
    response = APIClient().get(API, params)
    assert response.status_code == 200, response.content
    (cell,) = [c for c in response.json()["cells"] if (c["destination"], c["origin"]) == (destination, origin)]
    return cell


def test_suspended_agreement_makes_the_pair_suspended(world):
    svc.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert json_cell("CN", "CL")["state"] == "suspended"
    assert page_states(logged_in(world.rita).get(PAGE).content.decode())[("CN", "CL")] == "suspended"


def test_suspended_authority_with_an_agreement_in_force_is_suspended(world):
    authority_suspend(authority=world.cl.authority)
    cell = json_cell("CN", "CL")
    assert cell["state"] == "suspended"
    assert cell["authorities"][0]["status"] == "suspended" and not cell["authorities"][0]["recognized"]


def test_terminated_expired_and_draft_agreements_are_none(world):
    svc.agreement_terminate(agreement=world.cn_recognizes_cl)
    now = timezone.now()
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=now - timedelta(days=30),
        valid_until=now - timedelta(days=1),
        activate=True,
    )
    draft = svc.agreement_create(
        destination="CL", authority=world.kz.authority, credential_types=[world.merchant_identity]
    )
    assert json_cell("CN", "CL")["state"] == "none"
    assert json_cell("CN", "KZ")["state"] == "none"
    cl_kz = json_cell("CL", "KZ")
    assert cl_kz["state"] == "none" and cl_kz["authorities"][0]["agreements"] == []
    assert str(draft.pk) not in json.dumps(cl_kz)


def test_a_second_unrecognized_authority_makes_the_pair_partly_recognized(world):
    authority_create(country="CL", name="Servicio de Prueba", issuer="https://sii-cl.test/issuer")
    cell = json_cell("CN", "CL")
    assert cell["state"] == "partly_recognized"
    assert sorted(a["recognized"] for a in cell["authorities"]) == [False, True]


def test_reciprocal_pairs_are_marked_both_ways(world):
    svc.agreement_create(
        destination="CL",
        authority=world.cn.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-CL e-commerce cooperation memorandum (2016)",
        valid_from=timezone.now() - timedelta(days=1),
        activate=True,
    )
    assert json_cell("CN", "CL")["reciprocal"] is True
    assert json_cell("CL", "CN")["reciprocal"] is True
    assert json_cell("CN", "KZ")["reciprocal"] is False
    html = logged_in(world.rita).get(PAGE).content.decode()
    (cn_cl,) = re.findall(r'data-origin="CL" data-state="recognized" title="[^"]*">(.*?)</td>', html, flags=re.S)
    assert "⇄" in cn_cl
    assert "(reciprocal)" in html


def test_one_way_recognition_is_not_reciprocal(world):
    assert json_cell("CN", "CL")["reciprocal"] is False
    assert "⇄</span>" not in logged_in(world.rita).get(PAGE).content.decode()


# Bounded queries ---------------------------------------------------------------


def add_countries(world, codes: list[str]) -> None:
    for code in codes:
        authority = authority_create(
            country=code, name=f"Registry of {code}", issuer=f"https://registry-{code.lower()}.test/issuer"
        )
        svc.agreement_create(
            destination="CN",
            authority=authority,
            credential_types=[world.merchant_identity, world.export_licence],
            legal_basis="memo",
            activate=True,
        )
        svc.agreement_create(destination=code, authority=world.cl.authority, credential_types=[world.merchant_identity])


def count_queries(client, url: str) -> int:
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_countries(world):
    page, api = logged_in(world.rita), APIClient()
    page_three, api_three = count_queries(page, PAGE), count_queries(api, API)
    add_countries(world, ["VN", "HU", "AE", "PK", "RW", "KH", "KE"])
    page_ten, api_ten = count_queries(page, PAGE), count_queries(api, API)
    assert len(api.get(API).json()["countries"]) == 10
    assert len(page_states(page.get(PAGE).content.decode())) == 100
    assert (page_ten, api_ten) == (page_three, api_three)
    assert api_ten <= 4


# The JSON ----------------------------------------------------------------------


def test_json_has_the_documented_shape(world):
    response = APIClient().get(API)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"at", "countries", "cells"}
    assert body["at"].endswith("Z")
    assert body["countries"] == ["CL", "CN", "KZ"]
    assert len(body["cells"]) == 9
    assert [(c["destination"], c["origin"]) for c in body["cells"][:3]] == [("CL", "CL"), ("CL", "CN"), ("CL", "KZ")]
    cell = json_cell("CN", "CL")
    assert set(cell) == {"destination", "origin", "state", "reciprocal", "credential_types", "authorities"}
    assert (cell["state"], cell["reciprocal"], cell["credential_types"]) == ("recognized", False, ["merchant-identity"])
    assert cell["authorities"] == [
        {
            "issuer": world.cl.authority.issuer,
            "name": world.cl.authority.name,
            "status": "active",
            "recognized": True,
            "has_usable_key": True,
            "credential_types": ["merchant-identity"],
            "agreements": [world.cn_recognizes_cl.pk],
        }
    ]
    assert json_cell("CN", "CN")["state"] == "domestic"


def test_json_accepts_a_date_and_answers_its_midnight(world):
    assert APIClient().get(API, {"at": "2030-06-01"}).json()["at"] == "2030-06-01T00:00:00Z"


@pytest.mark.parametrize(
    "at", ["yesterday", "2026-13-01", "2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00", "", " ", "9" * 100]
)
def test_json_refuses_a_bad_at_with_400(world, at):
    response = APIClient().get(API, {"at": at})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and body["detail"].startswith("at:")


@pytest.mark.parametrize("role", ["platform", "regulator"])
def test_json_is_public_and_open_to_keys_and_sessions_too(world, role):
    secret = api_key_create(name=f"{role}-key", role=role)[1]
    assert APIClient().get(API, HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 200
    assert logged_in(world.alice).get(API).status_code == 200


def test_json_ignores_credentials_meant_for_other_endpoints(world):
    assert APIClient().get(API, HTTP_AUTHORIZATION="Api-Key wrong.key").status_code == 200


@pytest.mark.parametrize(
    ("query", "detail"),
    [("?when=2026-03-01", "unknown fields: when"), ("?at=2026-03-01&at=2026-03-02", "given more than once: at")],
)
def test_json_refuses_unknown_and_repeated_parameters(world, query, detail):
    response = APIClient().get(API + query)
    assert response.status_code == 400 and response.json()["detail"] == detail


def test_the_empty_date_picker_means_now_on_the_page(world):
    response = logged_in(world.rita).get(PAGE, {"at": ""})
    assert response.status_code == 200 and page_states(response.content.decode())[("CN", "CL")] == "recognized"


def test_json_is_read_only(world):
    assert APIClient().post(API, {}, format="json").status_code == 405


def test_matrix_endpoint_is_in_the_schema_and_validates(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    operation = schema["paths"][API]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["at"]
    assert {"200", "400"} <= set(operation["responses"])
