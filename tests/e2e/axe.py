"""Accessibility checks of a page with axe-core, run in the page by Playwright.

axe-core is the npm package pinned in tests/e2e/package.json (`npm ci
--prefix tests/e2e`; `make test` and `.ci/run` do it where npm is present).
Without it the browser tests are skipped, saying why; with
`E2E_REQUIRE_AXE=1` (set by `.ci/run` once it is installed) they fail
instead, so CI cannot pass without checking.

The pages send a strict Content-Security-Policy (no inline script), which
would refuse the `<script>` element of `page.add_script_tag`: the source is
evaluated through the DevTools protocol instead, which the policy does not
govern, so the pages are checked under the policy they are served with.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

AXE_JS = Path(settings.BASE_DIR) / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
TARGETS_SHOWN = 3


def axe_source(path: Path | None = None) -> str:
    """The text of axe.min.js, or a skip (a failure with E2E_REQUIRE_AXE=1) naming what is missing."""
    path = path or AXE_JS
    if not path.is_file():
        reason = f"axe-core is not installed at {path} (npm ci --prefix tests/e2e; make test and .ci/run do it)"
        if os.environ.get("E2E_REQUIRE_AXE") == "1":
            pytest.fail(f"E2E_REQUIRE_AXE=1 but {reason}")
        pytest.skip(reason)
    return path.read_text(encoding="utf-8")


def blocking_violations(result: dict) -> list[dict]:
    return [violation for violation in result["violations"] if violation.get("impact") in BLOCKING_IMPACTS]


def describe(violation: dict) -> str:
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:TARGETS_SHOWN]]
    more = len(violation["nodes"]) - len(targets)
    where = "; ".join(targets) + (f" (+{more} more)" if more > 0 else "")
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {where}"


def check_accessibility(page, name: str | Path) -> dict:
    """Run axe-core on the page as it is now (WCAG 2.0/2.1 A and AA), write the
    whole result to `<name>.axe.json` (`name` is a path, the screenshot's
    without its suffix), and fail listing every serious or critical
    violation. Returns the result."""
    source = axe_source()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    result = page.evaluate(
        "tags => window.axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    stem = Path(name).with_suffix("") if Path(name).suffix == ".png" else Path(name)
    report = stem.with_name(f"{stem.name}.axe.json")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    blocking = blocking_violations(result)
    if blocking:
        lines = "\n".join(f"  - {describe(violation)}" for violation in blocking)
        pytest.fail(
            f"{page.url}: {len(blocking)} serious or critical accessibility violation(s) (see {report}):\n{lines}"
        )
    return result
