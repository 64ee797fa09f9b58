"""A country's trust list page (/recognition/trust/<country>/,
recognition/web/trust.py): what it recognizes with the authorities' keys,
who recognizes it, its own authorities; for whom (each role, another
country read-only, drafts only for their country and regulators); the
warnings where a recognition cannot succeed; compromised keys flagged in
words; unknown countries; its queries bounded; the links from the admin."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from identity.services.authorities import authority_suspend, authority_update
from identity.services.keys import key_mark_compromised
from recognition.services.agreements import agreement_create, agreement_terminate
from tests.support.actors import PASSWORD, make_actor
from tests.support.matrix import logged_in

PAGE = "/recognition/trust/{}/"
INDEX = "/recognition/trust/"


def page(user, country: str = "CN") -> str:
    response = logged_in(user).get(PAGE.format(country))
    assert response.status_code == 200, response.status_code
    return response.content.decode().replace("&#x27;", "'")


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}".*?</table>', html, flags=re.S)
    return found.group(0) if found else ""


def recognize(world, destination: str, authority, **terms):
    return agreement_create(
        destination=destination,
        authority=authority,
        credential_types=[world.merchant_identity],
        legal_basis=terms.pop("legal_basis", "E-commerce cooperation memorandum"),
        valid_from=terms.pop("valid_from", timezone.now() - timedelta(days=30)),
        activate=terms.pop("activate", True),
        **terms,
    )


# What the page shows -----------------------------------------------------------


def test_we_recognize_lists_the_foreign_authority_its_terms_and_keys(world):
    agreement = world.cn_recognizes_cl
    html = page(world.alice)
    assert "Our trust list: China (CN)" in html
    ours = table(html, "table-we-recognize")
    assert f'data-agreement="{agreement.pk}"' in ours
    for shown in (
        world.cl.authority.name,
        world.cl.authority.issuer,
        "Chile (CL)",
        "Merchant identity",  # the type's name, not its code
        "low",
        "CN-CL e-commerce cooperation memorandum (2016)",
        f'href="/admin/recognition/recognitionagreement/{agreement.pk}/change/"',
        world.cl.key.kid,
        "usable now",
    ):
        assert shown in ours, shown
    assert re.search(r"<td>Yes</td>\s*<td class=\"trust-feasibility\">Yes</td>", ours)
    assert "Read-only" not in html


def test_the_reference_url_and_an_ended_window_are_shown(world):
    now = timezone.now()
    ended = recognize(
        world,
        "CN",
        world.kz.authority,
        valid_from=now - timedelta(days=30),
        valid_until=now - timedelta(days=1),
        reference_url="https://treaties.example/cn-kz",
    )
    row = re.search(rf'<tr data-agreement="{ended.pk}">.*?</tr>', table(page(world.alice), "table-we-recognize"), re.S)
    assert 'href="https://treaties.example/cn-kz"' in row.group(0)
    assert "<strong>No</strong>: this agreement's window ended on" in row.group(0)
    assert 'data-problem="window_ended"' in row.group(0)


def test_an_agreement_that_cannot_succeed_is_warned_about(world):
    authority_update(authority=world.kz.authority, name=world.kz.authority.name, max_assurance="low")
    cannot = recognize(world, "CN", world.kz.authority, min_assurance="substantial")
    ours = table(page(world.alice), "table-we-recognize")
    row = re.search(rf'<tr data-agreement="{cannot.pk}">.*?</tr>', ours, re.S).group(0)
    assert "⚠ No: every credential is rejected" in row
    assert "Kazakhstan's authority may issue at most low, this agreement asks substantial" in row
    assert 'data-problem="assurance_above_accreditation"' in row


def test_a_compromised_key_is_flagged_in_words(world):
    key_mark_compromised(key=world.cl.key)
    row = table(page(world.alice), "table-we-recognize")
    assert re.search(
        rf"<code>{world.cl.key.kid}</code> EdDSA,\s*<strong class=\"trust-flag\">⚠ Compromised</strong>", row
    )
    assert "every credential it signed is rejected" in row
    assert 'data-problem="no_usable_key"' in row


def test_a_suspended_authority_is_flagged_in_words(world):
    authority_suspend(authority=world.cl.authority)
    row = table(page(world.alice), "table-we-recognize")
    assert "⚠ Authority suspended" in row and 'data-problem="authority_suspended"' in row


def test_recognize_us_shows_the_other_countries_agreements_and_reciprocity(world):
    chile_recognizes_us = recognize(world, "CL", world.cn.authority)
    kazakhstan_recognizes_us = recognize(world, "KZ", world.cn.authority)
    html = page(world.alice)
    theirs = table(html, "table-recognize-us")
    assert f'data-agreement="{chile_recognizes_us.pk}"' in theirs
    assert f'data-agreement="{kazakhstan_recognizes_us.pk}"' in theirs
    assert "Chile (CL)" in theirs and "Kazakhstan (KZ)" in theirs
    own = table(html, "table-own")
    assert world.cn.authority.name in own and world.cn.key.kid in own
    assert f"Chile (CL), agreement #{chile_recognizes_us.pk} active: reciprocal" in own
    assert f"Kazakhstan (KZ), agreement #{kazakhstan_recognizes_us.pk} active: <strong>not reciprocal</strong>" in own


def test_terminated_agreements_are_over_and_left_out(world):
    agreement_terminate(agreement=world.cn_recognizes_cl)
    html = page(world.alice)
    assert f'data-agreement="{world.cn_recognizes_cl.pk}"' not in html
    assert "recognizes no foreign authority" in html


# Drafts: only for their country's administrators and regulators --------------------


def test_drafts_are_shown_apart_to_their_country_and_to_regulators(world):
    draft = recognize(world, "CN", world.kz.authority, activate=False)
    for who in (world.alice, world.rita, world.root):
        html = page(who)
        assert f'data-agreement="{draft.pk}"' in table(html, "table-drafts"), who
        assert f'data-agreement="{draft.pk}"' not in table(html, "table-we-recognize"), who
        assert "Not in force: drafts" in html
    assert f'data-agreement="{draft.pk}"' not in page(world.bob)


# Who may see which country ----------------------------------------------------------


def test_a_country_administrator_opens_their_own_country_by_default(world):
    response = logged_in(world.alice).get(INDEX)
    assert (response.status_code, response["Location"]) == (302, PAGE.format("CN"))


def test_another_country_opens_read_only(world):
    html = page(world.alice, "CL")
    assert "Trust list of Chile (CL)" in html
    assert "Read-only:" in html and "only Chile's administrators change them" in html
    assert "Chile recognizes" in html and "Recognize Chile" in html


@pytest.mark.parametrize("who", ["rita", "root"])
def test_regulators_and_the_superuser_open_any_country(world, who):
    user = getattr(world, who)
    chooser = logged_in(user).get(INDEX)
    assert chooser.status_code == 200
    assert 'href="/recognition/trust/CL/"' in chooser.content.decode()
    assert f'data-agreement="{world.cn_recognizes_cl.pk}"' in page(user, "CN")
    assert "Trust list of China (CN)" in page(user, "CN")


def test_the_chooser_opens_the_country_chosen(world):
    response = logged_in(world.alice).get(INDEX, {"country": "kz"})
    assert (response.status_code, response["Location"]) == (302, PAGE.format("KZ"))


def test_anonymous_is_sent_to_the_admin_login(world):
    for url in (INDEX, PAGE.format("CN")):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"/admin/login/?next={url}")


def test_staff_without_a_role_is_forbidden_and_others_sent_to_login(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    assert logged_in(stan).get(PAGE.format("CN")).status_code == 403
    assert logged_in(stan).get(INDEX).status_code == 403
    nora = get_user_model().objects.create_user("nora", password=PASSWORD)
    assert logged_in(nora).get(PAGE.format("CN")).status_code == 302


@pytest.mark.parametrize("code", ["ZZ", "C1", "CHN", "xx"])
def test_an_unknown_country_is_a_404_naming_it(world, code):
    response = logged_in(world.alice).get(PAGE.format(code))
    assert response.status_code == 404
    assert f"“{code}” is not a country code" in response.content.decode()


def test_a_lower_case_code_is_sent_to_the_upper_case_page(world):
    response = logged_in(world.alice).get(PAGE.format("cl"))
    assert (response.status_code, response["Location"]) == (302, PAGE.format("CL"))


def test_the_chooser_refuses_what_is_no_code(world):
    response = logged_in(world.rita).get(INDEX, {"country": "C/N"})
    assert response.status_code == 404 and "is not a country code" in response.content.decode()


def test_the_page_is_read_only(world):
    assert logged_in(world.alice).post(PAGE.format("CN")).status_code == 405


# Bounded queries ------------------------------------------------------------------


def test_queries_do_not_grow_with_the_number_of_agreements(world, django_assert_max_num_queries):
    client = logged_in(world.alice)
    client.get(PAGE.format("CN"))  # warm up (session, content types)
    with django_assert_max_num_queries(12) as few:
        client.get(PAGE.format("CN"))
    for n in range(12):
        actor = make_actor("KZ", f"kz-{n}", f"Kazakh Registry {n}")
        recognize(world, "CN", actor.authority)
        recognize(world, "KZ", world.cn.authority, legal_basis=f"memorandum {n}", activate=n % 2 == 0)
    with django_assert_max_num_queries(12) as many:
        html = client.get(PAGE.format("CN")).content.decode()
    assert html.count("data-agreement=") >= 13
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]


# Links from the admin -------------------------------------------------------------------


def test_the_admin_links_a_country_administrator_to_our_trust_list(world):
    html = logged_in(world.alice).get("/admin/").content.decode()
    assert re.search(r'<a href="/recognition/trust/CN/" id="trust-list-index-link">Our trust list</a>', html)
    assert re.search(r'<a href="/recognition/trust/" id="trust-list-link">Our trust list</a>', html)


def test_the_admin_links_a_regulator_to_the_trust_lists(world):
    html = logged_in(world.rita).get("/admin/").content.decode()
    assert re.search(r'<a href="/recognition/trust/" id="trust-list-link">Trust lists</a>', html)
    assert "trust-list-index-link" not in html


def test_the_page_is_styled_by_a_stylesheet_of_the_site_as_its_policy_allows(world):
    # The Content-Security-Policy of HTML pages allows no <style> element: a
    # style written in the page would be dropped, and long kids would push
    # the tables off the page.
    response = logged_in(world.alice).get(PAGE.format("CN"))
    html = response.content.decode()
    assert '<link rel="stylesheet" href="/static/registry/trust.css">' in html
    assert "<style" not in html
    assert "style-src 'self'" in response["Content-Security-Policy"]


def test_instants_are_marked_for_the_readers_local_time(world):
    # As in every admin list: to the second in UTC, with the ISO instant the
    # page's script turns into the reader's local time.
    from accounts.admin_display import display_instant

    key = world.cl.key
    html = page(world.alice)
    assert display_instant(key.not_before) in table(html, "table-we-recognize")
    assert 'data-instant="' in html.split("As the registry stands at", 1)[1][:200]
