"""Every endpoint that takes an instant reads it alike (core/instants.py):
`GET /api/v1/recognition/` `at`, the matrix `at` as JSON and as a page, TRQP
`context.time`, and the audit log's `since` and `until`. Each is asked the
whole table of tests/support/instants.py through HTTP: an accepted text means the
same instant everywhere, a refused one is a 400 naming the parameter with
the same reason. A bare date is accepted where DESIGN and the README say so
(the `at` of recognition and of the matrix, whose page has a date picker),
and refused by TRQP and the audit log, which take instants only."""

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.instants import iso
from recognition.api.filters import AuditFilter
from recognition.api.matrix import MatrixQuerySerializer
from recognition.api.serializers import InstantField
from recognition.api.trust import RecognitionQuerySerializer
from recognition.services.audit import record_decisions
from recognition.trqp.serializers import TrqpContextSerializer
from tests.api.test_trqp import assert_problem
from tests.support.api import error_of, keyed
from tests.support.audit import entry
from tests.support.instants import ACCEPTED, AT, REFUSED, REFUSED_DATES


@dataclass(frozen=True)
class Answer:
    status: int
    instant: str | None = None  # the instant the endpoint says it answered, RFC 3339
    included: bool | None = None  # audit: whether the row at AT was selected
    detail: str = ""


@dataclass(frozen=True)
class Endpoint:
    parameter: str
    allow_date: bool
    ask: Callable[..., Answer]


def recognition(world, text: str) -> Answer:
    response = APIClient().get("/api/v1/recognition/", {"origin": "CL", "destination": "CN", "at": text})
    if response.status_code == 200:
        return Answer(200, instant=response.json()["at"])
    return Answer(response.status_code, detail=error_of(response, 400, "invalid_request"))


def matrix_json(world, text: str) -> Answer:
    response = APIClient().get("/api/v1/recognition/matrix/", {"at": text})
    if response.status_code == 200:
        return Answer(200, instant=response.json()["at"])
    return Answer(response.status_code, detail=error_of(response, 400, "invalid_request"))


def matrix_page(world, text: str) -> Answer:
    client = Client()
    client.force_login(world.rita)
    response = client.get("/recognition/matrix/", {"at": text})
    page = response.content.decode()
    if response.status_code == 200:
        return Answer(200, instant=re.search(r'<time datetime="([^"]+)">', page)[1])
    (error,) = re.findall(r'<p class="error" role="alert">(.*?)</p>', page, flags=re.S)
    return Answer(response.status_code, detail="at: " + html.unescape(error).removeprefix(PAGE_PREFIX))


PAGE_PREFIX = "Cannot show the matrix at that date: "


def trqp(world, text: str) -> Answer:
    body = {
        "entity_id": world.cl.authority.issuer,
        "authority_id": "CN",
        "action": "recognize",
        "resource": "merchant-identity",
        "context": {"time": text},
    }
    response = APIClient().post("/trqp/recognition", json.dumps(body), content_type="application/json")
    if response.status_code == 200:
        return Answer(200, instant=response.json()["time_requested"])
    return Answer(response.status_code, detail=assert_problem(response, 400, "invalid_request")["detail"])


def audit(parameter: str) -> Callable[..., Answer]:
    def ask(world, text: str) -> Answer:
        response = world.regulator_client.get("/api/v1/audit/verifications/", {parameter: text})
        if response.status_code == 200:
            return Answer(200, included=[row["id"] for row in response.json()["results"]] == [world.audit_row])
        return Answer(response.status_code, detail=error_of(response, 400, "invalid_request"))

    return ask


ENDPOINTS = {
    "recognition at": Endpoint("at", True, recognition),
    "matrix JSON at": Endpoint("at", True, matrix_json),
    "matrix page at": Endpoint("at", True, matrix_page),
    "TRQP context.time": Endpoint("context.time", False, trqp),
    "audit since": Endpoint("since", False, audit("since")),
    "audit until": Endpoint("until", False, audit("until")),
}


def meant(endpoint: Endpoint, answer: Answer, expected: datetime) -> bool:
    """Whether the answer shows the endpoint read `expected`."""
    if answer.instant is not None:
        return answer.instant == iso(expected)
    # The audit log holds one row, created at AT: since selects it when
    # AT >= since, until when AT < until.
    return answer.included is (expected <= AT if endpoint.parameter == "since" else expected > AT)


@pytest.fixture
def asked(world, regulator_key):
    (recorded,) = record_decisions([entry()], at=AT)
    world.audit_row = str(recorded.id)
    world.regulator_client = keyed(regulator_key)
    return world


@pytest.mark.parametrize("name", ENDPOINTS)
def test_accepted_instants_mean_the_same_instant_everywhere(asked, name):
    endpoint = ENDPOINTS[name]
    for text, expected, date in ACCEPTED:
        answer = endpoint.ask(asked, text)
        if date and not endpoint.allow_date:
            assert answer.status == 400, text
            assert answer.detail.startswith(f"{endpoint.parameter}: {text!r} is not an RFC 3339 UTC time"), text
            assert "a date alone is not an instant here" in answer.detail, text
            continue
        assert answer.status == 200, (text, answer.detail)
        assert meant(endpoint, answer, expected), (text, answer)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_refused_instants_are_a_400_naming_the_parameter_and_why(asked, name):
    endpoint = ENDPOINTS[name]
    cases = REFUSED + (REFUSED_DATES if endpoint.allow_date else [])
    for text, reason in cases:
        if text == "" and name == "matrix page at":
            continue  # the cleared date picker: now (below)
        answer = endpoint.ask(asked, text)
        assert answer.status == 400, text
        assert answer.detail.startswith(f"{endpoint.parameter}: {text[:40]!r} "), (text, answer.detail)
        assert reason in answer.detail, (text, answer.detail)
    for text, _ in [] if endpoint.allow_date else REFUSED_DATES:
        assert endpoint.ask(asked, text).status == 400, text


def test_the_cleared_date_picker_means_now_on_the_page_only(asked):
    page = matrix_page(asked, "")
    assert page.status == 200 and page.instant.startswith(iso(datetime.now(AT.tzinfo))[:10])
    for name in ENDPOINTS.keys() - {"matrix page at"}:
        assert ENDPOINTS[name].ask(asked, "").status == 400, name


def test_every_instant_parameter_is_the_one_field():
    """The structural guard: no endpoint grows a reader of its own again."""
    fields = {
        "recognition at": RecognitionQuerySerializer().fields["at"],
        "matrix JSON at": MatrixQuerySerializer().fields["at"],
        "TRQP context.time": TrqpContextSerializer().fields["time"],
        "audit since": AuditFilter().fields["since"],
        "audit until": AuditFilter().fields["until"],
    }
    for name, field in fields.items():
        assert type(field) is InstantField, name
        assert field.allow_date is ENDPOINTS[name].allow_date, name
