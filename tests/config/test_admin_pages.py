"""What every admin page shows and how it refuses (DESIGN §7): instants with
seconds and zone, marked for the reader's local time by a script served from
this site; a styled 403 that says what the role allows; a plain 404 with no
URL patterns (DEBUG off); "View site" and every link a role can follow lead
to a page."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from accounts.admin_display import display_instant
from identity.models import Authority, AuthorityKey
from recognition.models import RecognitionAgreement, Verification
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.support.actors import PASSWORD
from tests.support.admin import add_url, change_url, changelist_url, client_for, history_url
from tests.support.tokens import sign

INSTANT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
SCRIPT = "/static/accounts/admin/instants.js"


@pytest.fixture
def stan(world):
    """A staff user with no role."""
    return get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)


# Instants ---------------------------------------------------------------------------------


def test_display_instant_is_utc_with_seconds_and_marked_for_local_time():
    east = timezone(timedelta(hours=8))
    shown = display_instant(datetime(2026, 12, 7, 1, 0, 5, 123456, tzinfo=east))
    assert shown == (
        '<time datetime="2026-12-06T17:00:05Z" data-instant="2026-12-06T17:00:05Z">'
        '<span class="nowrap">2026-12-06</span> 17:00:05 UTC</time>'
    )
    assert display_instant(None) == "-"


def test_lists_show_instants_with_seconds_utc_and_the_data_attribute(world):
    verify_credentials([VerificationRequest(token=sign(world.cl), destination="CN")], client="shop")
    rita = client_for(world.rita)
    key = world.cn.key
    marked = key.not_before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = rita.get(changelist_url(AuthorityKey)).content.decode()
    utc = key.not_before.astimezone(UTC)
    assert f'data-instant="{marked}"><span class="nowrap">{utc:%Y-%m-%d}</span> {utc:%H:%M:%S} UTC</time>' in keys
    audit = rita.get(changelist_url(Verification)).content.decode()
    assert re.search(r'data-instant="[0-9T:-]+Z"><span class="nowrap">[0-9-]{10}</span> [0-9:]{8} UTC</time>', audit)
    agreements = rita.get(changelist_url(RecognitionAgreement)).content.decode()
    assert "data-instant=" in agreements


def test_pages_and_history_show_instants_with_seconds_and_zone(world):
    alice = client_for(world.alice)
    page = alice.get(change_url(world.cn.authority)).content.decode()
    created = re.search(r'field-created_at">.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert created and INSTANT.fullmatch(created[1].strip())
    assert "p.m." not in page and "a.m." not in page
    history = alice.get(history_url(world.cn.authority)).content.decode()
    # Marked for the reader's local time, as in the lists.
    assert INSTANT.search(re.sub(r"<[^>]+>", "", history)) and "data-instant=" in history


def test_every_admin_page_loads_the_local_time_script_and_stylesheet_from_this_site(world, client):
    page = client_for(world.alice).get("/admin/").content.decode()
    assert f'<script src="{SCRIPT}" defer></script>' in page
    assert 'href="/static/accounts/admin/console.css"' in page
    script = client.get(SCRIPT)
    assert script.status_code == 200
    body = b"".join(script.streaming_content).decode()
    assert "data-instant" in body and "http" not in body.split("*/", 1)[1]
    css = client.get("/static/accounts/admin/console.css")
    assert css.status_code == 200 and "white-space: normal" in b"".join(css.streaming_content).decode()


# Refusals ---------------------------------------------------------------------------------


def refusal(response) -> str:
    assert response.status_code == 403, response.status_code
    page = response.content.decode()
    assert 'id="site-name"' in page and "<h1>Not allowed</h1>" in page  # the admin's look
    return page


def test_regulator_refusal_is_a_styled_403_saying_what_regulators_may_do(world):
    page = refusal(client_for(world.rita).get(add_url(RecognitionAgreement)))
    assert "Regulators read everything and change nothing." in page


def test_country_administrator_refusal_names_their_country_and_the_reason(world):
    row = verify_credentials([VerificationRequest(token=sign(world.cl), destination="CN")], client="s")[0].record.row
    page = refusal(client_for(world.alice).get(f"/admin/recognition/verification/{row.pk}/evidence/"))
    assert "Dispute evidence is for regulators." in page
    assert "You administer CN: you change CN&#x27;s rows only" in page


def test_staff_without_a_role_is_told_they_have_none(world, stan):
    page = refusal(client_for(stan).get("/recognition/matrix/"))
    assert "Your account has no role in the registry" in page


def test_api_refusals_keep_the_error_shape(world):
    response = client_for(world.alice).get("/api/v1/audit/verifications/")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_view_site_leads_to_a_page_for_every_role(world, stan):
    for user in (world.alice, world.rita, world.root, stan):
        client = client_for(user)
        page = client.get("/admin/").content.decode()
        found = re.search(r'<a href="([^"]+)">View site</a>', page)
        assert found and client.get(found[1]).status_code == 200


def test_not_found_with_debug_off_is_a_plain_page_without_url_patterns(world, client):
    assert settings.DEBUG is False
    for response in (client.get("/no-such-page/"), client_for(world.alice).get("/admin/no/such/page/")):
        assert response.status_code == 404
        page = response.content.decode()
        assert "<h1>Not found</h1>" in page and "admin/css/base.css" in page
        assert "URLconf" not in page and "urlpatterns" not in page and "api/v1/" not in page


def test_server_error_page_names_no_detail():
    page = render_to_string("500.html")
    assert "The registry failed to answer" in page and "Traceback" not in page


# Links ------------------------------------------------------------------------------------

SKIPPED = ("/admin/logout/", "/export.csv", "/evidence/", "/admin/password_change/", "/admin/jsi18n/")


def reachable(client, start: str = "/admin/", limit: int = 250) -> dict[str, int]:
    """Every admin page reachable by links from `start` (query strings
    dropped), with its status."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in re.findall(r'href="(/(?:admin|recognition)/[^"?#]*)', response.content.decode()):
            if link not in seen and not any(part in link for part in SKIPPED):
                queue.append(link)
    return seen


@pytest.mark.parametrize("username", ["alice", "bob", "rita", "root"])
def test_no_link_a_role_can_follow_leads_to_a_missing_page_or_an_error(world, username):
    RecognitionAgreement.objects.get(pk=world.cn_recognizes_cl.pk)  # linked from the authorities' pages
    verify_credentials([VerificationRequest(token=sign(world.cl), destination="CN")], client="shop")
    pages = reachable(client_for(getattr(world, username)))
    broken = {url: status for url, status in pages.items() if status == 404 or status >= 500}
    assert not broken
    assert change_url(world.cl.authority) in pages and changelist_url(Authority) in pages
