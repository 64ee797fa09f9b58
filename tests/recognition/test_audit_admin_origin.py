"""The audit log's admin for a country's administrators (DESIGN §6, §7): the
decisions taken for their border and those about their own authorities'
credentials abroad, told apart by a filter, filtered by reason (a JSON list:
SQLite and PostgreSQL alike), shown with human reason labels, and exported
as the audit API's CSV, scoped to what the user may see."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from identity.reasons import Reason, reason_label
from recognition.api.audit import COLUMNS
from recognition.models import Verification
from recognition.services.agreements import agreement_create
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.support.admin import change_url, changelist_url, client_for, messages_of
from tests.support.tokens import sign

EXPORT_URL = "/admin/recognition/verification/export.csv"


@pytest.fixture
def decisions(world) -> dict[str, Verification]:
    """Chilean credentials: accepted in CN, rejected in KZ (no agreement);
    a Kazakh credential rejected in CN (no agreement); a Chinese one
    rejected in KZ, which concerns neither Chile nor its border."""
    outcomes = verify_credentials(
        [
            VerificationRequest(token=sign(world.cl, jti="=HYPERLINK(1)"), destination="CN"),
            VerificationRequest(token=sign(world.cl), destination="KZ"),
            VerificationRequest(token=sign(world.kz), destination="CN"),
            VerificationRequest(token=sign(world.cn), destination="KZ"),
        ],
        client="shop-platform",
    )
    cl_in_cn, cl_in_kz, kz_in_cn, cn_in_kz = (outcome.record.row for outcome in outcomes)
    return {"cl_in_cn": cl_in_cn, "cl_in_kz": cl_in_kz, "kz_in_cn": kz_in_cn, "cn_in_kz": cn_in_kz}


def listed(response) -> set:
    assert response.status_code == 200, response.status_code
    return {row.id for row in response.context["cl"].result_list}


def ids(decisions: dict[str, Verification], *names: str) -> set:
    return {decisions[name].id for name in names}


def test_chilean_administrator_sees_decisions_about_chilean_credentials_and_no_unrelated_one(world, decisions):
    bob = client_for(world.bob)  # CL: no decision was taken for Chile's border
    assert listed(bob.get(changelist_url(Verification))) == ids(decisions, "cl_in_cn", "cl_in_kz")
    assert bob.get(change_url(decisions["cl_in_kz"])).status_code == 200
    refused = bob.get(change_url(decisions["cn_in_kz"]))
    assert refused.status_code == 302
    assert any("a decision for Kazakhstan (KZ)" in message for message in messages_of(refused))


def test_about_filter_tells_our_credentials_abroad_from_decisions_for_our_border(world, decisions):
    alice = client_for(world.alice)  # CN
    everything = ids(decisions, "cl_in_cn", "kz_in_cn", "cn_in_kz")
    assert listed(alice.get(changelist_url(Verification))) == everything
    assert listed(alice.get(changelist_url(Verification), {"about": "our_border"})) == ids(
        decisions, "cl_in_cn", "kz_in_cn"
    )
    assert listed(alice.get(changelist_url(Verification), {"about": "ours_abroad"})) == ids(decisions, "cn_in_kz")
    page = alice.get(changelist_url(Verification)).content.decode()
    assert "our credentials abroad (origin CN)" in page and "decisions for our border (destination CN)" in page
    # Regulators see every row: the filter is not offered to them.
    assert "our credentials abroad" not in client_for(world.rita).get(changelist_url(Verification)).content.decode()


def test_reason_filter_finds_the_rows_whose_reasons_include_the_code(world, decisions):
    rita = client_for(world.rita)
    assert listed(rita.get(changelist_url(Verification), {"reason": Reason.NO_AGREEMENT})) == ids(
        decisions, "cl_in_kz", "kz_in_cn", "cn_in_kz"
    )
    assert listed(rita.get(changelist_url(Verification), {"reason": Reason.KEY_COMPROMISED})) == set()
    # The filter is scoped like the list.
    bob = client_for(world.bob)
    assert listed(bob.get(changelist_url(Verification), {"reason": Reason.NO_AGREEMENT})) == ids(decisions, "cl_in_kz")


def test_reason_filter_on_the_database_in_use(world, decisions):
    """Run with DATABASE_URL=postgres://... too: there it is jsonb containment."""
    agreement_create(
        destination="KZ",
        authority=world.cl.authority,
        credential_types=[world.merchant_identity],
        legal_basis="KZ-CL memorandum",
        activate=True,
    )
    accepted = verify_credentials([VerificationRequest(token=sign(world.cl), destination="KZ")], client="shop")
    rita = client_for(world.rita)
    no_agreement = listed(rita.get(changelist_url(Verification), {"reason": "no_agreement"}))
    assert accepted[0].record.row.id not in no_agreement and decisions["cl_in_kz"].id in no_agreement
    # A code that is a prefix of none and part of another's name matches nothing by accident.
    assert listed(rita.get(changelist_url(Verification), {"reason": "agreement_not_in_force"})) == set()


def test_reasons_are_shown_with_their_human_labels(world, decisions):
    label = reason_label(Reason.NO_AGREEMENT)
    assert label and label != Reason.NO_AGREEMENT
    bob = client_for(world.bob)
    listing = bob.get(changelist_url(Verification)).content.decode()
    assert f'<span title="no_agreement">{label}</span>' in listing
    page = bob.get(change_url(decisions["cl_in_kz"])).content.decode()
    assert f"{label} (<code>no_agreement</code>)" in page
    assert reason_label("retired_code") == "retired_code"  # an unknown code is shown as it is


def exported(client, **params) -> list[list[str]]:
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_csv_export_has_the_apis_columns_and_only_the_rows_the_user_may_see(world, decisions):
    bob = client_for(world.bob)
    header, *rows = exported(bob)
    assert tuple(header) == COLUMNS
    assert {row[0] for row in rows} == {str(decisions["cl_in_cn"].id), str(decisions["cl_in_kz"].id)}
    # The list's filters apply.
    _, *filtered = exported(bob, destination="KZ")
    assert [row[0] for row in filtered] == [str(decisions["cl_in_kz"].id)]
    _, *everything = exported(client_for(world.rita))
    assert len(everything) == 4


def test_csv_export_neutralizes_cells_a_spreadsheet_would_run(world, decisions):
    header, *rows = exported(client_for(world.bob))
    jti = header.index("jti")
    assert "'=HYPERLINK(1)" in [row[jti] for row in rows]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_csv_export_is_linked_from_the_list_with_its_filters(world, decisions):
    page = client_for(world.bob).get(changelist_url(Verification), {"destination": "KZ"}).content.decode()
    assert f'href="{EXPORT_URL}?destination=KZ"' in page


def test_csv_export_refuses_staff_without_a_role_and_bad_filters(world, decisions):
    stan = get_user_model().objects.create_user("stan", password="x", is_staff=True)
    assert client_for(stan).get(EXPORT_URL).status_code == 403
    response = client_for(world.rita).get(EXPORT_URL, {"no_such_field": "1"})
    assert response.status_code == 302
    assert any("Those filters" in message for message in messages_of(response))
