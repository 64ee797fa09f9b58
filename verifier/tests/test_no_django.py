"""The package runs where the registry does not: importing every one of its
modules loads no Django (nor anything of the registry's), in a fresh
interpreter."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import merchant_verifier

PROBE = """
import importlib, json, pkgutil, sys
import merchant_verifier
names = sorted(m.name for m in pkgutil.iter_modules(merchant_verifier.__path__, "merchant_verifier."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_importing_every_module_loads_no_django():
    # The directory this copy of the package was imported from, first.
    source = str(Path(merchant_verifier.__path__[0]).parent)
    result = subprocess.run(  # noqa: S603 (this interpreter, a constant program)
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": source},
        timeout=60,
    )
    found = json.loads(result.stdout)
    expected = {m.name for m in pkgutil.iter_modules(merchant_verifier.__path__, "merchant_verifier.")}
    assert set(found["modules"]) == expected
    assert {"merchant_verifier.decide", "merchant_verifier.tokens", "merchant_verifier.model"} <= expected
    tops = {name.split(".")[0] for name in found["loaded"]}
    assert not tops & {"django", "rest_framework", "identity", "recognition", "core", "config"}
