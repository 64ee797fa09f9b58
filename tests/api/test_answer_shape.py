"""The answer of a verification is built by hand (recognition/api/answers.py
`present`, for speed) and described by serializers (the OpenAPI schema): the
two must agree. Every kind of answer the API gives is held to the
serializers here: the same members at every level, and values those
serializers accept."""

import pytest
from rest_framework import serializers

from identity.services.keys import key_mark_compromised
from recognition.api.answers import VerificationResponseSerializer
from tests.support.tokens import sign


def members(serializer: serializers.Serializer) -> dict:
    """The declared members, with those of nested serializers."""
    declared = {}
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListSerializer):
            declared[name] = [members(field.child)]
        elif isinstance(field, serializers.Serializer):
            declared[name] = members(field)
        else:
            declared[name] = None
    return declared


def unexpected(value, declared, where: str = "answer") -> list[str]:
    """Where `value` has members the serializers do not declare, or lacks some."""
    if declared is None or value is None:
        return []
    if isinstance(declared, list):
        return [problem for n, item in enumerate(value) for problem in unexpected(item, declared[0], f"{where}[{n}]")]
    problems = [f"{where}: {sorted(set(value) ^ set(declared))}"] if set(value) != set(declared) else []
    return problems + [problem for name in declared for problem in unexpected(value.get(name), declared[name], name)]


def assert_matches_the_serializers(answer: dict) -> None:
    assert unexpected(answer, members(VerificationResponseSerializer())) == []
    checked = VerificationResponseSerializer(data=answer)
    assert checked.is_valid(), checked.errors


def test_the_declared_members_are_those_of_design_section_5():
    assert set(members(VerificationResponseSerializer())) == {
        "id", "decision", "accepted", "reasons", "origin", "destination", "evaluated_at", "issuer", "merchant",
        "credential", "agreement", "audit",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("case", "destination"),
    [("accepted abroad", "CN"), ("accepted at home", "CL"), ("no agreement", "KZ"), ("malformed", "CN")],
)
def test_every_kind_of_answer_matches_the_serializers(world, api, case, destination):
    token = "not-a-token" if case == "malformed" else sign(world.cl)
    response = api.verify(token, destination)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["accepted"] is case.startswith("accepted")
    assert_matches_the_serializers(answer)


def test_a_compromised_keys_answer_matches_the_serializers(world, api):
    key_mark_compromised(key=world.cl.key)
    answer = api.verify(sign(world.cl), "CN").json()
    assert answer["issuer"] is None and "key_compromised" in [reason["code"] for reason in answer["reasons"]]
    assert_matches_the_serializers(answer)


def test_every_answer_of_a_batch_matches_the_serializers(world, api):
    items = [{"token": sign(world.cl), "destination": "CN"}, {"token": "x.y.z", "destination": "KZ"}]
    response = api.post("/api/v1/verifications/batch/", {"items": items})
    assert response.status_code == 200, response.content
    for answer in response.json()["results"]:
        assert_matches_the_serializers(answer)


def test_a_member_the_serializers_do_not_declare_is_caught(world, api):
    answer = api.verify(sign(world.cl), "CN").json()
    answer["merchant"]["nickname"] = "x"
    del answer["audit"]
    assert unexpected(answer, members(VerificationResponseSerializer())) == [
        "answer: ['audit']",
        "merchant: ['nickname']",
    ]
