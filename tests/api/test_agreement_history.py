"""GET /api/v1/agreements/{id}/history/ (DESIGN §7): every version of an
agreement, oldest first, with who made it (a username, nothing more), when,
why, the full terms of that version and the terms that changed. Regulators
only: anonymous 401, platform key, country administrator and staff without
role 403; an unknown id is a 404 for a regulator."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Proposal
from accounts.proposals import approve
from recognition.models import RecognitionAgreement
from recognition.services.agreements import (
    agreement_activate,
    agreement_create,
    agreement_suspend,
    agreement_update_terms,
)
from tests.support.api import error_of, keyed, session


@pytest.fixture(autouse=True)
def fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


def url(agreement_id: int) -> str:
    return f"/api/v1/agreements/{agreement_id}/history/"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def versions(agreement: RecognitionAgreement) -> list:
    return list(agreement.history.filter(id=agreement.pk).order_by("history_date", "history_id"))


@pytest.fixture
def changed_by_alice(world) -> RecognitionAgreement:
    """CN←CL: created (by a command: no user), then alice widens the types and
    raises the minimum assurance (a proposal, which alice2 approves), then
    suspends it."""
    agreement = world.cn_recognizes_cl
    proposal = agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity, world.export_licence],
        min_assurance="substantial",
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        legal_basis=agreement.legal_basis,
        user=world.alice,
        reason="export licences too",
    )
    approve(proposal=proposal, user=world.alice2)
    agreement_suspend(agreement=agreement, user=world.alice)
    return agreement


def test_history_lists_every_version_oldest_first_with_who_changed_what(world, regulator_key, changed_by_alice):
    response = keyed(regulator_key).get(url(changed_by_alice.id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    created, terms, suspended = body["results"]
    rows = versions(changed_by_alice)
    assert [v["version"] for v in body["results"]] == [row.history_id for row in rows]
    assert [v["history_type"] for v in body["results"]] == ["created", "changed", "changed"]
    assert [v["user"] for v in body["results"]] == [None, "alice2", "alice"]
    assert [v["change_reason"] for v in body["results"]] == [
        "created and activated",
        f"terms changed: approved proposal #{Proposal.objects.get().pk} proposed by alice: export licences too",
        "status suspended",
    ]
    assert created["changed"] == []
    assert terms["changed"] == ["credential_types", "min_assurance"]
    assert suspended["changed"] == ["status"]
    assert suspended == {
        "version": rows[2].history_id,
        "history_date": iso(rows[2].history_date),
        "history_type": "changed",
        "user": "alice",
        "change_reason": "status suspended",
        "status": "suspended",
        "min_assurance": "substantial",
        "valid_from": iso(changed_by_alice.valid_from),
        "valid_until": None,
        "legal_basis": "CN-CL e-commerce cooperation memorandum (2016)",
        "reference_url": "",
        "notes": "",
        "credential_types": ["export-licence", "merchant-identity"],
        "changed": ["status"],
    }
    assert (created["status"], created["min_assurance"], created["credential_types"]) == (
        "active",
        "low",
        ["merchant-identity"],
    )


def test_every_changed_term_is_named(world, regulator_key):
    agreement = agreement_create(
        destination="KZ", authority=world.cl.authority, credential_types=[world.merchant_identity], user=world.root
    )
    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.export_licence],
        min_assurance="high",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        legal_basis="KZ-CL memorandum",
        reference_url="https://kz.example/memo",
        notes="signed in Astana",
        user=world.root,
    )
    agreement_activate(agreement=agreement, user=world.root)
    body = keyed(regulator_key).get(url(agreement.id)).json()
    draft, terms, active = body["results"]
    assert (draft["status"], draft["user"], draft["changed"]) == ("draft", "root", [])
    assert terms["changed"] == [
        "credential_types", "min_assurance", "valid_from", "valid_until", "legal_basis", "reference_url", "notes",
    ]  # fmt: skip
    assert (terms["valid_until"], terms["notes"]) == ("2027-01-01T00:00:00Z", "signed in Astana")
    assert active["changed"] == ["status"]


def test_history_names_the_user_and_no_other_personal_data(world, regulator_key):
    agreement_suspend(agreement=world.cn_recognizes_cl, user=world.root)
    response = keyed(regulator_key).get(url(world.cn_recognizes_cl.id))
    assert response.json()["results"][-1]["user"] == "root"
    assert b"root@registry.test" not in response.content


def test_history_pages_compare_across_the_page_boundary(world, regulator_key, changed_by_alice):
    client = keyed(regulator_key)
    first = client.get(url(changed_by_alice.id), {"page_size": 2}).json()
    assert [v["changed"] for v in first["results"]] == [[], ["credential_types", "min_assurance"]]
    assert first["next"].endswith(f"{url(changed_by_alice.id)}?page=2&page_size=2")
    second = client.get(first["next"]).json()
    assert [v["changed"] for v in second["results"]] == [["status"]]
    assert second["previous"] and client.get(second["previous"]).json() == first


def test_history_of_a_draft_is_shown_to_regulators(world, regulator_key):
    draft = agreement_create(destination="CN", authority=world.kz.authority, credential_types=[world.merchant_identity])
    for client in (keyed(regulator_key), session(world.rita), session(world.root)):
        body = client.get(url(draft.id)).json()
        assert [v["status"] for v in body["results"]] == ["draft"]


def test_unknown_agreement_is_a_404_for_a_regulator(world, regulator_key):
    detail = error_of(keyed(regulator_key).get(url(987654)), 404, "not_found")
    assert "no agreement with id 987654" in detail
    error_of(keyed(regulator_key).get(url(int("9" * 30))), 404, "not_found")


def test_history_rejects_unknown_query_parameters(world, regulator_key):
    detail = error_of(
        keyed(regulator_key).get(url(world.cn_recognizes_cl.id), {"user": "alice"}), 400, "invalid_request"
    )
    assert "unknown query parameters: user" in detail
    error_of(keyed(regulator_key).get(url(world.cn_recognizes_cl.id), {"page_size": "-1"}), 400, "invalid_request")


# Negative roles ------------------------------------------------------------------------------


def test_anonymous_gets_401(world):
    response = APIClient().get(url(world.cn_recognizes_cl.id))
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_wrong_key_gets_401(world):
    error_of(keyed("nope.wrong").get(url(world.cn_recognizes_cl.id)), 401, "authentication_failed")


def test_a_platform_key_gets_403(world, platform_key):
    error_of(keyed(platform_key).get(url(world.cn_recognizes_cl.id)), 403, "forbidden")


def test_a_country_administrator_gets_403_even_for_their_own_countrys_agreement(world):
    for admin in (world.alice, world.bob):
        error_of(session(admin).get(url(world.cn_recognizes_cl.id)), 403, "forbidden")


def test_a_staff_user_without_a_role_gets_403(world):
    staff = get_user_model().objects.create_user("sam", is_staff=True)
    error_of(session(staff).get(url(world.cn_recognizes_cl.id)), 403, "forbidden")


def test_a_non_regulator_learns_nothing_about_unknown_ids(world, platform_key):
    error_of(keyed(platform_key).get(url(987654)), 403, "forbidden")
    error_of(APIClient().get(url(987654)), 401, "not_authenticated")
