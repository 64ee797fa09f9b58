"""The house plan holds (README, Layout): the apps depend on each other one
way only, `core <- accounts <- identity <- recognition <- witness <- demo`, no module
reaches into another app's private names, the product imports neither the
tooling (bench/) nor the tests, and no product module grows past 400 lines.

Read from the source with `ast`, so an import anywhere (in a function too)
counts."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lower first: a package may import itself and those before it, never one after.
LAYERS = ("core", "accounts", "identity", "recognition", "witness", "demo")
PRODUCT = (*LAYERS, "config")
TOOLING = ("bench", "tests")
MAX_LINES = 400


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
    )


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
    return sorted(found, key=lambda item: item[2])


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


MODULES = product_modules()


def test_the_layout_is_found():
    assert {package_of(path) for path in MODULES} == set(PRODUCT)
    assert len(MODULES) > 100


def violations(here: str, imports: list[tuple[str, list[str], int]]) -> list[str]:
    """What is wrong with the imports of a module of package `here`."""
    wrong = []
    for module, names, line in imports:
        top = module.split(".")[0]
        if top in TOOLING:
            wrong.append(f"line {line}: the product imports {module}")
        elif here in LAYERS and top in LAYERS and LAYERS.index(top) > LAYERS.index(here):
            wrong.append(f"line {line}: {here} imports {module}, which depends on {here}")
        elif here in LAYERS and top == "config":
            wrong.append(f"line {line}: {here} imports the project's {module}")
        if top in PRODUCT and top != here:
            wrong += [f"line {line}: {module}.{name} is private to {top}" for name in names if name.startswith("_")]
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_imports_run_one_way(path):
    wrong = violations(package_of(path), imports_of(path))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_product_module_is_over_the_size_limit(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_identity_knows_nothing_of_recognition():
    mentions = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "identity").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "recognition" in line
    ]
    assert mentions == []


def test_the_check_sees_wrong_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from recognition.models import Verification\n"
        "def later():\n    from accounts.scope import _private\n"
        "import bench.run\n"
        "from config.settings import DEBUG\n"
    )
    assert violations("identity", imports_of(probe)) == [
        "line 1: identity imports recognition.models, which depends on identity",
        "line 3: accounts.scope._private is private to accounts",
        "line 4: the product imports bench.run",
        "line 5: identity imports the project's config.settings",
    ]
    assert violations("demo", imports_of(probe)) == [
        "line 3: accounts.scope._private is private to accounts",
        "line 4: the product imports bench.run",
        "line 5: demo imports the project's config.settings",
    ]
