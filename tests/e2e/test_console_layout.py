"""The admin's lists in a real browser (DESIGN §7): at 1400 px with the
sidebar open no column of the agreements list is clipped (the list wraps
instead of scrolling sideways), and the reader's local time appears beside
each instant, from the registry's own script under its Content-Security-Policy.

Data is prepared before the browser opens (tests/e2e/browser.py)."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.e2e.browser import TIMEOUT_MS, Screenshots, chromium

pytestmark = pytest.mark.slow

DEMO_CN_ADMIN = ("demo-cn-admin", "Demo-China-Admin-Silk-Road-2016")


@pytest.fixture
def plain_http_cookies(settings) -> None:
    # Production cookies are Secure (HTTPS only); the live server speaks HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


def test_agreements_list_fits_1400_px_and_shows_local_times(live_server, plain_http_cookies, request):
    call_command("load_demo", "--allow-without-debug", stdout=StringIO())
    shot = Screenshots(request.node.name)
    with chromium() as browser:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1400, "height": 900}, timezone_id="Europe/Berlin"
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/recognition/recognitionagreement/")
        page.fill("#id_username", DEMO_CN_ADMIN[0])
        page.fill("#id_password", DEMO_CN_ADMIN[1])
        with page.expect_navigation():
            page.click("input[type=submit]")
        assert page.locator("#nav-sidebar").is_visible()
        shot(page, "cn-admin-agreements-1400px")
        overflow = page.evaluate(
            "() => { const r = document.querySelector('#changelist-form .results');"
            " return r.scrollWidth - r.clientWidth; }"
        )
        assert overflow <= 0, f"the list scrolls sideways by {overflow} px"
        header = page.locator("#result_list thead th.column-status")
        assert header.bounding_box()["x"] + header.bounding_box()["width"] <= 1400
        # The window's instants, in UTC, with Berlin's time beside them (UTC+1 in winter).
        local = page.locator(".registry-local-time").first
        assert "local, UTC+1" in local.inner_text()
