"""Building the Go checker of our tiles (go/tlogcheck) without a network.

It is built in GOPATH mode against golang.org/x/mod/sumdb/tlog as the
distribution packages it (Debian: golang-golang-x-mod-dev, under
/usr/share/gocode/src). Where Go or that package is missing the tests that
need them are skipped, naming what is missing, unless REQUIRE_GO=1, where
they fail instead (for a CI image that is meant to have them)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

GOCODE = Path("/usr/share/gocode")
TLOG_PACKAGE = "golang.org/x/mod/sumdb/tlog"


def missing_go() -> str | None:
    """What is missing to build the Go checker, or None."""
    if shutil.which("go") is None:
        return "the go command is not on PATH (install Go 1.19 or later)"
    if not (GOCODE / "src" / TLOG_PACKAGE / "tlog.go").is_file():
        return f"{TLOG_PACKAGE} is not under {GOCODE}/src (Debian: apt install golang-golang-x-mod-dev)"
    return None


def require_go() -> None:
    """Skip the calling test when Go is missing; fail it under REQUIRE_GO=1."""
    reason = missing_go()
    if reason is None:
        return
    if os.environ.get("REQUIRE_GO") == "1":
        pytest.fail(f"REQUIRE_GO=1, but {reason}")
    pytest.skip(reason)


def build_go_program(source_dir: Path, output: Path) -> Path:
    """`go build` the main package in `source_dir` into `output`, in GOPATH
    mode with a throw-away GOPATH and build cache, and no module proxy."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("the go command is not on PATH")
    with tempfile.TemporaryDirectory(prefix="go-build-") as scratch:
        env = {
            **os.environ,
            "GO111MODULE": "off",
            "GOPATH": f"{scratch}/gopath{os.pathsep}{GOCODE}",
            "GOCACHE": f"{scratch}/cache",
            "GOPROXY": "off",
            "GOFLAGS": "",  # -mod=... is refused outside module mode
            "CGO_ENABLED": "0",
        }
        built = subprocess.run(
            [go, "build", "-o", str(output), "."],
            cwd=source_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    if built.returncode != 0:
        raise RuntimeError(f"go build in {source_dir} failed:\n{built.stdout}{built.stderr}")
    return output
