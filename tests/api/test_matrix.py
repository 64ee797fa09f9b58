"""The recognition matrix as JSON, GET /api/v1/recognition/matrix/: its
documented shape, answered from history for `at`, public, read-only, its
queries bounded; the states agree with the staff page
(tests/recognition/web/test_views.py). The cell states as a pure function:
tests/recognition/services/test_matrix.py."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from core.instants import iso
from identity.services.authorities import authority_create, authority_suspend, authority_update
from recognition.services import agreements as svc
from tests.support.actors import make_actor
from tests.support.clock import T0
from tests.support.matrix import PAGE, logged_in, page_states

API = "/api/v1/recognition/matrix/"


# Timelines (the clock technique of tests/recognition/services/test_point_in_time.py) ----------


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
            "problems": [],
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


def test_json_is_read_only(world):
    assert APIClient().post(API, {}, format="json").status_code == 405


def test_matrix_endpoint_is_in_the_schema_and_validates(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    operation = schema["paths"][API]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["at"]
    assert {"200", "400"} <= set(operation["responses"])


# Recognized on paper, every credential rejected -----------------------------------------


def cambodia_recognized_above_its_accreditation(world):
    """The demo's CN <- KH: Cambodia's authority may issue at most `low`, China
    asks `substantial`."""
    kh = make_actor("KH", "moc-kh", "Ministry of Commerce Test Registry")
    authority_update(authority=kh.authority, name=kh.authority.name, max_assurance="low")
    china_asks_substantial_of(world, kh)
    return kh


def china_asks_substantial_of(world, actor) -> None:
    svc.agreement_create(
        destination="CN",
        authority=actor.authority,
        credential_types=[world.merchant_identity],
        min_assurance="substantial",
        legal_basis="CN-KH memorandum",
        valid_from=timezone.now() - timedelta(days=10),
        activate=True,
    )


def test_a_pair_whose_every_credential_is_rejected_cannot_succeed(world):
    cambodia_recognized_above_its_accreditation(world)
    cell = json_cell("CN", "KH")
    assert (cell["state"], cell["reciprocal"]) == ("cannot_succeed", False)
    (authority,) = cell["authorities"]
    assert authority["recognized"] is True and authority["has_usable_key"] is True
    assert authority["problems"] == [
        {
            "code": "assurance_above_accreditation",
            "detail": "Cambodia's authority may issue at most low, this agreement asks substantial",
        }
    ]
    html = logged_in(world.rita).get(PAGE).content.decode()
    assert page_states(html)[("CN", "KH")] == "cannot_succeed"
    assert "Recognized on paper, every credential rejected" in html
    (title,) = re.findall(r'data-destination="CN" data-origin="KH" data-state="\w+" title="([^"]*)"', html)
    assert "cannot succeed: Cambodia&#x27;s authority may issue at most low" in title


def test_recognition_at_and_trqp_still_answer_recognized_on_paper(world):
    """DESIGN §7, §9: they answer recognized-or-not at an instant."""
    kh = cambodia_recognized_above_its_accreditation(world)
    (answer,) = APIClient().get("/api/v1/recognition/", {"origin": "KH", "destination": "CN"}).json()["authorities"]
    assert answer["recognized"] is True
    trqp = APIClient().post(
        "/trqp/recognition",
        {
            "entity_id": kh.authority.issuer,
            "authority_id": "CN",
            "action": "recognize",
            "resource": "merchant-identity",
            "context": {},
        },
        format="json",
    )
    assert trqp.json()["recognized"] is True


def test_a_mixed_pair_is_partly_recognized(world):
    cambodia_recognized_above_its_accreditation(world)
    china_asks_substantial_of(world, make_actor("KH", "customs-kh", "Customs Test Registry"))
    cell = json_cell("CN", "KH")
    assert cell["state"] == "partly_recognized"
    assert sorted(len(a["problems"]) for a in cell["authorities"]) == [0, 1]


def test_the_state_at_an_instant_uses_the_accreditation_of_that_time(world, clock):
    kh = cambodia_recognized_above_its_accreditation(world)
    clock.now = accredited = T0 + timedelta(days=1)
    authority_update(authority=kh.authority, name=kh.authority.name, max_assurance="substantial")
    clock.now = T0 + timedelta(days=2)
    assert json_cell("CN", "KH", at=iso(T0))["state"] == "cannot_succeed"
    assert json_cell("CN", "KH", at=iso(accredited))["state"] == "recognized"
    assert json_cell("CN", "KH")["state"] == "recognized"


def test_the_schema_lists_the_new_state(world):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    state = components["MatrixCell"]["properties"]["state"]
    enum_name = state.get("$ref", "").rsplit("/", 1)[-1] or state["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert "cannot_succeed" in components[enum_name]["enum"]
    problem = components["MatrixProblem"]["properties"]["code"]
    problem_enum = problem.get("$ref", "").rsplit("/", 1)[-1] or problem["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert "assurance_above_accreditation" in components[problem_enum]["enum"]
