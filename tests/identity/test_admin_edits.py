"""Editing the details of authorities and merchants in the admin: through the
update services, scoped by country, with history."""

import pytest

from identity.models import Authority, Merchant
from tests.support.admin import change_url, client_for, form_errors, is_read_only_page, latest_history_user


@pytest.fixture
def alice(world):
    return client_for(world.alice)


def test_cn_admin_edits_chinese_merchant_details_but_not_its_registration_number(world, alice):
    merchant = world.cn.merchant
    response = alice.post(
        change_url(merchant),
        {"legal_name": "Renamed Trading Co.", "lei": "", "assurance": "low", "registration_number": "CHANGED"},
    )
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert (merchant.legal_name, merchant.assurance, merchant.registration_number) == (
        "Renamed Trading Co.",
        "low",
        "CN-0001",
    )
    assert latest_history_user(merchant) == world.alice


def test_merchant_edit_refused_by_the_service_is_a_form_error(world, alice):
    response = alice.post(change_url(world.cn.merchant), {"legal_name": "X", "lei": "NOTALEI", "assurance": "high"})
    assert "not a valid LEI" in form_errors(response)
    assert Merchant.objects.get(pk=world.cn.merchant.pk).legal_name != "X"


def test_cn_admin_edits_chinese_authority_name_but_not_its_issuer_or_country(world, alice):
    authority = world.cn.authority
    response = alice.post(
        change_url(authority),
        {
            "name": "Renamed Bureau",
            "max_assurance": "substantial",
            "issuer": "https://evil.test",
            "country": "CL",
            "reason": "renamed by decree",
        },
    )
    assert response.status_code == 302
    authority.refresh_from_db()
    assert (authority.name, authority.max_assurance, authority.issuer, authority.country.code) == (
        "Renamed Bureau",
        "substantial",
        "https://samr-cn.test/issuer",
        "CN",
    )
    assert latest_history_user(authority) == world.alice


def test_cn_admin_cannot_edit_chilean_authority(world, alice):
    authority = world.cl.authority
    assert is_read_only_page(alice.get(change_url(authority)))
    alice.post(change_url(authority), {"name": "Hijacked", "max_assurance": "low", "reason": "forged"})
    assert Authority.objects.get(pk=authority.pk).name != "Hijacked"


def test_regulator_cannot_edit_merchant_details(world):
    rita = client_for(world.rita)
    assert is_read_only_page(rita.get(change_url(world.cn.merchant)))
    rita.post(change_url(world.cn.merchant), {"legal_name": "Hijacked", "lei": "", "assurance": "low"})
    assert Merchant.objects.get(pk=world.cn.merchant.pk).legal_name != "Hijacked"
