"""A benchmark run in a subprocess, as `make` starts it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # bench/tests/runs.py: the project root is two levels up


def run_benchmark(module: str, *arguments: str) -> subprocess.CompletedProcess:
    """`python -m <module> <arguments>` from the project root, without the
    test run's database or settings (the benchmark makes its own)."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
