"""The accessibility check (tests/e2e/axe.py) cannot pass by checking nothing.

On a small page with a known critical violation (an image without a text
alternative) it fails naming the rule and the element, and writes axe's whole
result; on a clean page it passes, having run the rule. Without axe-core the
browser tests are skipped, saying why, unless E2E_REQUIRE_AXE=1, where they
fail.
"""

import json

import pytest

from tests.e2e import axe
from tests.e2e.browser import chromium

UNLABELLED_IMAGE = (
    '<!DOCTYPE html><html lang="en"><head><title>Seal</title></head><body><main><h1>Seal</h1>'
    '<img id="seal" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">'
    "</main></body></html>"
)
CLEAN = UNLABELLED_IMAGE.replace('height="20">', 'height="20" alt="The registry\'s seal">')


@pytest.mark.slow
def test_fails_naming_a_critical_violation_and_passes_a_clean_page(tmp_path):
    axe.axe_source()  # without axe-core: skipped or failed saying so, before any page
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(UNLABELLED_IMAGE)
        with pytest.raises(pytest.fail.Exception) as failure:
            axe.check_accessibility(page, tmp_path / "01-unlabelled.png")
        assert "1 serious or critical accessibility violation(s)" in str(failure.value)
        assert "image-alt (critical): Images must have alternative text at #seal" in str(failure.value)
        written = json.loads((tmp_path / "01-unlabelled.axe.json").read_text())
        assert [violation["id"] for violation in written["violations"]] == ["image-alt"]

        page.set_content(CLEAN)
        result = axe.check_accessibility(page, tmp_path / "02-clean")
        page.close()
    assert result["violations"] == []
    assert "image-alt" in {rule["id"] for rule in result["passes"]}
    assert json.loads((tmp_path / "02-clean.axe.json").read_text())["violations"] == []


def test_without_axe_core_the_check_is_skipped_saying_why(tmp_path, monkeypatch):
    monkeypatch.setattr(axe, "AXE_JS", tmp_path / "absent" / "axe.min.js")
    monkeypatch.delenv("E2E_REQUIRE_AXE", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"axe-core is not installed at .*absent/axe\.min\.js \(npm ci"):
        axe.check_accessibility(page=None, name=tmp_path / "01-page")
    assert not list(tmp_path.glob("*.axe.json"))


def test_with_e2e_require_axe_a_missing_axe_core_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(axe, "AXE_JS", tmp_path / "absent" / "axe.min.js")
    monkeypatch.setenv("E2E_REQUIRE_AXE", "1")
    with pytest.raises(pytest.fail.Exception, match=r"^E2E_REQUIRE_AXE=1 but axe-core is not installed"):
        axe.check_accessibility(page=None, name=tmp_path / "01-page")


def test_the_pinned_axe_core_is_the_one_found():
    """The path the check reads is where `npm ci --prefix tests/e2e` puts the pinned version."""
    lock = json.loads((axe.AXE_JS.parents[2] / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/axe-core"]["version"]
    assert json.loads((axe.AXE_JS.parents[2] / "package.json").read_text())["devDependencies"]["axe-core"] == pinned
    assert f"axe v{pinned}" in axe.axe_source()[:200]
