"""The agreements' admin answers a country administrator's usual questions
(DESIGN §3, §7, §10): whether each agreement is in force now, from which
country, for which types and from which assurance; filters on each; names
instead of codes; another country's agreement read-only, saying whose it is;
the authority page lists the agreements recognizing it."""

import re
from datetime import UTC, datetime

import pytest

from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create, agreement_suspend
from tests.support.admin import (
    change_url,
    changelist_url,
    client_for,
    history_url,
    is_read_only_page,
    listed_row,
    messages_of,
)

Agreement = RecognitionAgreement


@pytest.fixture
def ended(world) -> RecognitionAgreement:
    """China recognizes Kazakhstan's registry, active, but its window ended on
    2025-01-01 (the demo's CN <- AE)."""
    return agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.export_licence],
        min_assurance="high",
        legal_basis="CN-KZ memorandum (2023)",
        valid_from=datetime(2023, 1, 1, tzinfo=UTC),
        valid_until=datetime(2025, 1, 1, tzinfo=UTC),
        activate=True,
    )


@pytest.fixture
def cl_draft(world) -> RecognitionAgreement:
    return agreement_create(
        destination="CL",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CL-KZ memorandum (draft)",
    )


def result(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return sorted(row.pk for row in response.context["cl"].result_list)


def test_list_shows_in_force_origin_types_minimum_assurance_status_and_window(world, ended):
    listing = client_for(world.alice).get(changelist_url(Agreement))
    headers = re.findall(r'<div class="text">(?:<a [^>]*>|<span>)(.*?)<', listing.content.decode())
    for header in ("In force", "Origin", "Recognized authority", "Credential types", "Minimum assurance", "Window"):
        assert header in headers
    row = listed_row(listing, ended)
    assert "Active" in row and "No, ended 2025-01-01 00:00:00 UTC" in row
    assert "Kazakhstan (KZ)" in row and "Export licence" in row and "High" in row
    assert "from 2023-01-01 00:00:00 UTC until 2025-01-01 00:00:00 UTC" in row
    current = listed_row(listing, world.cn_recognizes_cl)
    assert current.split()[1] == "Yes" and "Chile (CL)" in current and "Merchant identity" in current
    assert "Registro de Empresas de Prueba" in current and "https://" not in current


def test_in_force_says_why_not_for_a_suspended_agreement(world):
    agreement_suspend(agreement=world.cn_recognizes_cl)
    row = listed_row(client_for(world.alice).get(changelist_url(Agreement)), world.cn_recognizes_cl)
    assert "No, suspended" in row


def test_country_administrator_list_has_no_destination_column_the_superuser_has(world):
    assert (
        "destination_country" not in client_for(world.alice).get(changelist_url(Agreement)).context["cl"].list_display
    )
    assert "destination_country" in client_for(world.root).get(changelist_url(Agreement)).context["cl"].list_display


def test_filters_in_force_origin_destination_type_assurance_and_status(world, ended, cl_draft):
    root = client_for(world.root)
    url = changelist_url(Agreement)
    current, old, draft = world.cn_recognizes_cl.pk, ended.pk, cl_draft.pk
    assert result(root.get(url, {"in_force": "yes"})) == [current]
    assert result(root.get(url, {"in_force": "no"})) == sorted([old, draft])
    assert result(root.get(url, {"origin": "KZ"})) == sorted([old, draft])
    assert result(root.get(url, {"destination": "CL"})) == [draft]
    assert result(root.get(url, {"credential_type": "export-licence"})) == [old]
    assert result(root.get(url, {"min_assurance__exact": "high"})) == [old]
    assert result(root.get(url, {"status__exact": "draft"})) == [draft]
    page = root.get(url).content.decode()
    # Filters name countries and types, not codes only.
    assert "Kazakhstan (KZ)" in page and "Export licence" in page


def test_country_administrator_filters_offer_only_their_rows(world, ended, cl_draft):
    alice = client_for(world.alice)
    assert result(alice.get(changelist_url(Agreement), {"origin": "KZ"})) == [ended.pk]
    assert result(alice.get(changelist_url(Agreement), {"in_force": "no"})) == [ended.pk]


def test_titles_name_countries_and_authorities(world):
    agreement = world.cn_recognizes_cl
    title = f"China recognizes Registro de Empresas de Prueba, Chile (agreement #{agreement.pk}, active)"
    assert str(agreement) == title
    assert title in client_for(world.alice).get(change_url(agreement)).content.decode()


# Another country's agreement ------------------------------------------------------------


def test_another_countrys_agreement_opens_read_only_naming_its_owner(world):
    bob = client_for(world.bob)  # CL
    page = bob.get(change_url(world.cn_recognizes_cl))
    assert is_read_only_page(page)
    assert "This recognition agreement belongs to China (CN)'s administrators: you view it read-only." in (
        messages_of(page)
    )
    assert 'class="historylink"' not in page.content.decode()  # its history stays China's
    assert bob.get(history_url(world.cn_recognizes_cl)).status_code == 404
    # The list stays Chile's own.
    assert result(bob.get(changelist_url(Agreement))) == []


def test_another_countrys_draft_is_not_shown_and_the_refusal_says_whose_it_is(world, cl_draft):
    refused = client_for(world.alice).get(change_url(cl_draft))
    assert refused.status_code == 302 and refused["Location"] == changelist_url(Agreement)
    assert messages_of(refused) == [
        f"Recognition agreement #{cl_draft.pk}: this recognition agreement belongs to Chile (CL)'s administrators."
    ]
    assert "CL-KZ memorandum" not in client_for(world.alice).get(refused["Location"]).content.decode()


def test_an_id_that_never_existed_is_not_called_deleted(world):
    refused = client_for(world.alice).get(
        change_url(world.cn_recognizes_cl).replace(f"/{world.cn_recognizes_cl.pk}/", "/999999/")
    )
    assert refused.status_code == 302
    message = messages_of(refused)[0]
    assert "nothing is ever deleted in this registry" in message and "Perhaps it was deleted" not in message


def test_own_agreements_keep_their_history_link(world):
    page = client_for(world.alice).get(change_url(world.cn_recognizes_cl)).content.decode()
    assert 'class="historylink"' in page


# The authority page ---------------------------------------------------------------------


def test_authority_page_lists_the_agreements_recognizing_it_with_links(world, cl_draft):
    bob = client_for(world.bob)
    page = bob.get(change_url(world.cl.authority)).content.decode()
    agreement = world.cn_recognizes_cl
    assert f'href="{change_url(agreement)}">#{agreement.pk}</a>' in page
    assert "China (CN)" in page and "Merchant identity" in page
    # The link leads to a page, read-only.
    assert is_read_only_page(bob.get(change_url(agreement)))


def test_authority_page_hides_other_countries_drafts(world, cl_draft):
    kz_page = client_for(world.alice).get(change_url(world.kz.authority)).content.decode()
    assert f">#{cl_draft.pk}</a>" not in kz_page and "No country recognizes this authority." in kz_page
    assert f">#{cl_draft.pk}</a>" in client_for(world.rita).get(change_url(world.kz.authority)).content.decode()


def test_credential_types_are_offered_by_name(world):
    page = client_for(world.alice).get(change_url(world.cn_recognizes_cl)).content.decode()
    assert ">Merchant identity (merchant-identity)</option>" in page
    assert ">Export licence (export-licence)</option>" in page
