"""Everything that answers "did D recognize this authority at that instant"
gives one answer (point_in_time.recognize): `GET /api/v1/recognition/`, the
matrix as JSON, and TRQP recognition, at every instant of the KZ timeline
(tests/support/clock.py), keys included. The trust list, which carries every key
for an offline verifier to weigh per credential, lists by the terms alone
(recognition/services/trust_lists.py; tests/api/test_trust_lists.py)."""

import json
from datetime import timedelta

from rest_framework.test import APIClient

from core.instants import iso
from tests.support.clock import kz_timeline_expectations, walk_kz_timeline


def from_recognition(issuer: str, at: str) -> bool:
    body = APIClient().get("/api/v1/recognition/", {"origin": "KZ", "destination": "CN", "at": at}).json()
    (authority,) = [a for a in body["authorities"] if a["issuer"] == issuer]
    return authority["recognized"]


def from_matrix(issuer: str, at: str) -> bool:
    body = APIClient().get("/api/v1/recognition/matrix/", {"at": at}).json()
    (cell,) = [c for c in body["cells"] if (c["destination"], c["origin"]) == ("CN", "KZ")]
    (authority,) = [a for a in cell["authorities"] if a["issuer"] == issuer]
    assert authority["recognized"] is (authority["recognized"] and authority["has_usable_key"])
    return authority["recognized"]


def from_trqp(issuer: str, at: str) -> bool:
    body = {
        "entity_id": issuer,
        "authority_id": "CN",
        "action": "recognize",
        "resource": "merchant-identity",
        "context": {"time": at},
    }
    response = APIClient().post("/trqp/recognition", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["recognized"]


def test_every_reader_gives_the_timeline_answer(world, clock, settings):
    timeline = walk_kz_timeline(world, clock)
    issuer = world.kz.authority.issuer
    max_lifetime = timedelta(days=settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"])
    for expected in kz_timeline_expectations(timeline, max_lifetime):
        at = iso(expected.at)
        answers = {
            "recognition": from_recognition(issuer, at),
            "matrix": from_matrix(issuer, at),
            "trqp": from_trqp(issuer, at),
        }
        assert answers == dict.fromkeys(answers, expected.recognized), at
