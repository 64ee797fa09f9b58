"""The verifier package (verifier/src/merchant_verifier) stands alone: its
source imports only the standard library, PyJWT, cryptography and itself,
the two dependencies its pyproject declares (read with `ast`, so an import
anywhere, in a function too, counts)."""

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "verifier" / "src" / "merchant_verifier"
ALLOWED = {"jwt", "cryptography", "merchant_verifier"}


def foreign_imports(source: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [
            (node.lineno, module) for module in modules if module.split(".")[0] not in ALLOWED | sys.stdlib_module_names
        ]
    return [f"line {line}: {module}" for line, module in sorted(found)]


def test_the_package_imports_only_the_standard_library_pyjwt_cryptography_and_itself():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert {path.stem for path in modules} >= {"reasons", "algorithms", "tokens", "signature", "jwk", "model", "decide"}
    wrong = {str(path.relative_to(PACKAGE)): foreign_imports(path.read_text()) for path in modules}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_check_sees_a_foreign_import():
    probe = (
        "import json\nfrom jwt import decode\ndef later():\n    from django.db import models\nimport identity.reasons\n"
    )
    assert foreign_imports(probe) == ["line 4: django.db", "line 5: identity.reasons"]
