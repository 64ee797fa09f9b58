"""Debian's Chromium, headless, driven by Playwright's sync API.

Playwright's own browser download does not work here: the test drives the
distribution's Chromium (`apt-get install chromium`, done by `.ci/run`).
Where it is absent or cannot start, the browser tests are skipped with the
reason; with `E2E_REQUIRE_BROWSER=1` (set by `.ci/run` once Chromium is
installed) they fail instead, so CI cannot pass without running them.

Django refuses ORM calls while Playwright's sync API runs its event loop in
the thread (SynchronousOnlyOperation): a test prepares its data before
`chromium()` opens and checks the database after it closes.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

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


class Screenshots:
    """Numbered full-page screenshots of each step, under artifacts/e2e/<test>/
    (ignored by git); emptied when the test starts so that a run leaves only
    its own."""

    def __init__(self, test_name: str) -> None:
        self.directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.png"):
            old.unlink()
        self.taken: list[Path] = []

    def __call__(self, page, step: str) -> Path:
        path = self.directory / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path
