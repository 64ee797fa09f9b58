"""`merchant-verify` (src/merchant_verifier/cli.py): the decision as JSON,
exit status 0 accepted, 1 rejected, 2 for a usage or I/O error in one line,
never a traceback."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from registry_double import Clock, tampered

import merchant_verifier
from merchant_verifier.cli import main

SOURCE = str(Path(merchant_verifier.__file__).resolve().parent.parent)


@pytest.fixture
def clock():
    """The command reads the real clock: the registry double signs at it."""
    return Clock(datetime.now(UTC).replace(microsecond=0))


def run(*argv, stdin=""):
    """The command in a process of its own, as a user runs it."""
    env = dict(os.environ, PYTHONPATH=SOURCE)
    return subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-m", "merchant_verifier.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_an_accepted_credential_prints_the_answer_and_exits_0(server, registry):
    done = run(registry.credential(), "--destination", "CN", "--origin", "CL", "--registry", server.url)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["decision"] == "accepted"
    assert set(answer) == {
        "decision", "accepted", "reasons", "origin", "destination", "evaluated_at", "issuer", "merchant",
        "credential", "agreement",
    }  # fmt: skip
    assert done.stderr == ""


def test_a_rejected_credential_exits_1_with_its_reasons(server, registry, capsys):
    status = main([tampered(registry.credential()), "--destination", "CN", "--registry", server.url])
    assert status == 1
    assert json.loads(capsys.readouterr().out)["reasons"][0]["code"] == "invalid_signature"


def test_the_token_is_read_from_standard_input_with_a_dash(server, registry):
    done = run("-", "--destination", "CN", "--registry", server.url, stdin=registry.credential() + "\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accepted"] is True


def test_lists_that_cannot_be_had_are_a_rejection(registry, capsys):
    status = main([registry.credential(), "--destination", "CN", "--registry", "http://127.0.0.1:9", "--timeout", "2"])
    assert status == 1
    assert json.loads(capsys.readouterr().out)["reasons"][0]["code"] == "lists_unavailable"


def test_save_lists_then_verify_offline(server, registry, tmp_path):
    cache = tmp_path / "lists"
    done = run("save-lists", "--destination", "CN", "--registry", server.url, "--cache-dir", str(cache))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(cache / name)
        for name in ("jwks.json", "merchant-status/CL.jwt", "merchant-status/CN.jwt", "status-lists/1.jwt",
                     "trust-lists/CN.jwt")
    ]  # fmt: skip
    server.stop()
    offline = run(registry.credential(status_index=1), "--destination", "CN", "--offline", "--cache-dir", str(cache))
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["accepted"] is True


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        ([], "", "merchant-verify: the following arguments are required: TOKEN, --destination"),
        (["tok"], "", "merchant-verify: the following arguments are required: --destination"),
        (["tok", "--destination", "cn"], "", "merchant-verify: a country is an ISO 3166-1 alpha-2 code in upper case"),
        (["tok", "--destination", "CN", "--origin", "Chile"], "", "merchant-verify: a country is an ISO 3166-1"),
        (["tok", "--destination", "CN", "--registry", "ftp://x"], "", "merchant-verify: the registry URL must start"),
        (["tok", "--destination", "CN", "--offline"], "", "merchant-verify: --offline reads the lists saved in"),
        (["-", "--destination", "CN"], "  \n", "merchant-verify: standard input holds no token"),
        (["save-lists", "--destination", "CN"], "", "merchant-verify save-lists: --cache-dir is required"),
        (["tok", "--destination", "CN", "--bogus"], "", "merchant-verify: unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, stdin, message):
    done = run(*argv, stdin=stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_save_lists_that_cannot_reach_the_registry_exits_2_with_one_line(tmp_path):
    done = run("save-lists", "--destination", "CN", "--registry", "http://127.0.0.1:9", "--cache-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("merchant-verify: lists_unavailable: the trust list of CN: cannot reach ")
    assert done.stderr.count("\n") == 1


def test_an_unwritable_cache_directory_is_one_line(server, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    done = run("save-lists", "--destination", "CN", "--registry", server.url, "--cache-dir", str(blocked / "lists"))
    assert done.returncode == 2
    where = blocked / "lists" / "jwks.json"
    assert done.stderr == f"merchant-verify: lists_unavailable: cannot read {where} (Not a directory)\n"
