"""Debian's Chromium, headless, driven by Playwright's sync API.

Playwright's own browser download does not work here: the test drives the
distribution's Chromium (`apt-get install chromium`, done by `.ci/run`).
Where it is absent or cannot start, the browser tests are skipped with the
reason; with `E2E_REQUIRE_BROWSER=1` (set by `.ci/run` once Chromium is
installed) they fail instead, so CI cannot pass without running them.

Django refuses ORM calls while Playwright's sync API runs its event loop in
the thread (SynchronousOnlyOperation): a test prepares its data before
`chromium()` opens and checks the database after it closes.

The helpers a browser test needs: `log_in` (a fresh context logged in
through the form, 1280 px wide, or `WIDE` = 1400 px), `Screenshots` (one
numbered full-page screenshot a step) and its `visit`/`look`, which also
check the page's accessibility with axe-core (tests/e2e/axe.py); the
fixtures `live_site` and `screenshots` are in tests/e2e/conftest.py.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.axe import check_accessibility
from tests.support.actors import PASSWORD

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# As the machine notes say: no sandbox (root), no GPU, and nothing that calls
# out to Google's services on a closed network. Playwright gives every launch
# a fresh, empty profile (--user-data-dir) of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "e2e"
TIMEOUT_MS = 15_000
NARROW, WIDE = 1280, 1400
HEIGHT = 900


def unavailable(reason: str) -> None:
    if os.environ.get("E2E_REQUIRE_BROWSER") == "1":
        pytest.fail(f"E2E_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium `Browser`, or a skip naming why there is none."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does it)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            unavailable(f"Chromium at {CHROMIUM} cannot start: {first_line}")
        try:
            yield browser
        finally:
            browser.close()


def log_in(browser, base: str, username: str, *, width: int = NARROW, password: str = PASSWORD):
    """A fresh browser context (its own cookies) logged in through the admin's
    form; `width=WIDE` for the 1400 px window the console is checked at."""
    page = new_page(browser, base, width=width)
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert page.url == f"{base}/admin/", f"{username} was not logged in: {page.url}"
    assert page.locator("#user-tools strong").text_content() == username
    return page


def new_page(browser, base: str, *, width: int = NARROW):
    """A page in a fresh context (no cookies: nobody logged in)."""
    context = browser.new_context(base_url=base, viewport={"width": width, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


class Screenshots:
    """Numbered full-page screenshots of each step, under artifacts/e2e/<test>/
    (ignored by git), each with its accessibility report (NN-step.axe.json)
    when taken by `visit` or `look`; emptied when the test starts so that a
    run leaves only its own."""

    def __init__(self, test_name: str) -> None:
        self.directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in [*self.directory.glob("*.png"), *self.directory.glob("*.axe.json")]:
            old.unlink()
        self.taken: list[Path] = []

    def __call__(self, page, step: str) -> Path:
        path = self.directory / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    def look(self, page, step: str) -> Path:
        """The screenshot of the page as it is now, then its accessibility
        check (no serious or critical violation, tests/e2e/axe.py)."""
        path = self(page, step)
        check_accessibility(page, path)
        return path

    def visit(self, page, url: str, step: str):
        """Go to `url`, then `look`; returns the navigation's response (its
        status is the caller's to check: a refusal page is a page too)."""
        response = page.goto(url)
        self.look(page, step)
        return response
