"""Own and foreign rows in the identity admin (DESIGN §7): a country
administrator sees which authorities and keys are theirs, cannot select a
foreign one for an action, reads foreign authorities and keys read-only (the
CN administrator sees that a recognized authority's key is compromised), and
an authority's page shows its keys."""

import pytest

from identity.models import Authority, AuthorityKey
from identity.services.keys import key_mark_compromised, key_retire
from tests.support.admin import (
    change_url,
    changelist_url,
    client_for,
    is_read_only_page,
    listed_row,
    messages_of,
    post_action,
    row_is_selectable,
)


@pytest.fixture
def alice(world):
    return client_for(world.alice)  # CN


def test_authorities_list_marks_own_and_foreign_rows(world, alice):
    listing = alice.get(changelist_url(Authority))
    assert listed_row(listing, world.cn.authority).split(" yours ")[0].endswith("Market Regulation Test Bureau")
    assert "foreign (read-only)" in listed_row(listing, world.cl.authority)
    assert "Chile (CL)" in listed_row(listing, world.cl.authority)


def test_foreign_authorities_and_keys_offer_no_checkbox(world, alice):
    for model, own, foreign in (
        (Authority, world.cn.authority, world.cl.authority),
        (AuthorityKey, world.cn.key, world.cl.key),
    ):
        listing = alice.get(changelist_url(model))
        assert row_is_selectable(listing, own) and not row_is_selectable(listing, foreign)


def test_a_crafted_selection_of_a_foreign_authority_still_changes_nothing(world, alice):
    post_action(alice, Authority, "suspend", [world.cl.authority])
    world.cl.authority.refresh_from_db()
    assert world.cl.authority.status == "active"


def test_regulator_and_superuser_lists_have_no_ownership_column(world):
    for user in (world.rita, world.root):
        assert "ownership" not in client_for(user).get(changelist_url(Authority)).context["cl"].list_display
    assert "ownership" in client_for(world.alice).get(changelist_url(Authority)).context["cl"].list_display


def test_foreign_authority_page_is_read_only_and_says_whose_it_is(world, alice):
    page = alice.get(change_url(world.cl.authority))
    assert is_read_only_page(page) and b'name="_continue"' not in page.content
    assert "This authority belongs to Chile (CL)'s administrators: you view it read-only." in messages_of(page)
    own = alice.get(change_url(world.cn.authority))
    assert b'name="_save"' in own.content and not any("belongs to" in m for m in messages_of(own))


def test_authority_page_shows_its_keys_with_compromised_ones_flagged(world, alice):
    key_mark_compromised(key=world.cl.key)
    page = alice.get(change_url(world.cl.authority)).content.decode()
    assert f'href="{change_url(world.cl.key)}">{world.cl.key.kid}</a>' in page
    assert '<strong class="registry-alert">Compromised</strong> since <time' in page
    assert "EdDSA" in page


def test_cn_admin_sees_foreign_keys_read_only_with_authority_country_and_status(world, alice):
    key_mark_compromised(key=world.cl.key)
    key_retire(key=world.kz.key)
    listing = alice.get(changelist_url(AuthorityKey))
    cl_row = listed_row(listing, world.cl.key)
    assert "Registro de Empresas de Prueba" in cl_row and "Chile (CL)" in cl_row
    assert "Compromised since" in cl_row and "foreign (read-only)" in cl_row
    assert "Retired since" in listed_row(listing, world.kz.key)
    assert 'class="registry-alert">Compromised' in listing.content.decode()
    page = alice.get(change_url(world.cl.key))
    assert is_read_only_page(page)
    assert "This authority key belongs to Chile (CL)'s administrators: you view it read-only." in messages_of(page)


def test_foreign_key_filter_by_country_names_the_country(world, alice):
    listing = alice.get(changelist_url(AuthorityKey), {"authority__country": "CL"})
    assert [key.pk for key in listing.context["cl"].result_list] == [world.cl.key.pk]
    assert "Kazakhstan (KZ)" in listing.content.decode()


def test_foreign_merchants_stay_out_of_sight_and_the_refusal_says_whose(world, alice):
    refused = alice.get(change_url(world.cl.merchant))
    assert refused.status_code == 302
    assert messages_of(refused) == [
        f"Merchant #{world.cl.merchant.pk}: this merchant belongs to Chile (CL)'s administrators."
    ]
