"""README "Verifying offline": its commands, run as the README writes them
against a live registry loaded with the demo data. The credential is issued
by the README's `issue_credential` line (through call_command, on the test
database); each `merchant-verify` line runs in a process of its own
(`python -m merchant_verifier.cli`, this checkout's package), in a scratch
directory, with the live server's URL for the README's; what it prints must
contain every line the README shows. `pip install ./verifier` is what `make
verifier-test` does and tests."""

import os
import re
import shlex
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from identity.models import Merchant
from identity.services.merchants import merchant_revoke
from recognition.services.registry_keys import registry_key_rotate

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8000"


def readme_commands() -> list[tuple[str, list[str]]]:
    """(command, the output lines the README shows) of the section's first block."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Verifying offline") :]
    block = section[section.index("```\n") + 4 :]
    block = block[: block.index("```\n")]
    commands: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    while lines:
        line = lines.pop(0)
        assert line.startswith("$ "), line
        command = line[2:]
        while command.endswith("\\"):
            command = command[:-1] + lines.pop(0).strip()
        shown = []
        while lines and not lines[0].startswith("$ "):
            shown.append(lines.pop(0))
        commands.append((command, shown))
    return commands


def test_the_readme_shows_the_commands_this_test_runs():
    commands = [command.split()[0] for command, _ in readme_commands()]
    assert commands == ["pip", "TOKEN=$(.venv/bin/python", "merchant-verify", "merchant-verify", "merchant-verify"]


def issue(command: str) -> str:
    inner = re.fullmatch(r"TOKEN=\$\((.*)\)", command).group(1)
    argv = shlex.split(inner)
    assert argv[:3] == [".venv/bin/python", "manage.py", "issue_credential"]
    out = StringIO()
    call_command(*argv[2:], stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def run_verifier(command: str, token: str, url: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = [token if word == "$TOKEN" else word for word in shlex.split(command)]
    assert argv[0] == "merchant-verify"
    argv = [url if word == README_URL else word for word in argv[1:]]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "verifier" / "src"))
    return subprocess.run(
        [sys.executable, "-m", "merchant_verifier.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def demo(transactional_db, settings, tmp_path) -> None:
    """The demo data, and a registry key of the test's own."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "registry-key.pem")}
    settings.STATUS_LIST_SIZE = 4096
    registry_key_rotate()
    call_command("load_demo", "--allow-without-debug", stdout=StringIO())


def test_the_readme_commands_verify_a_demo_credential_online_then_offline(demo, live_server, tmp_path):
    token = None
    for command, shown in readme_commands():
        if command.startswith("pip "):
            continue
        if command.startswith("TOKEN="):
            token = issue(command)
            continue
        done = run_verifier(command, token, live_server.url, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        printed = done.stdout.splitlines()
        for line in shown:
            if line.strip() != "…":
                assert line in printed, (line, printed)
    assert (tmp_path / "lists" / "trust-lists" / "CN.jwt").is_file()


def test_a_revoked_demo_merchant_is_refused_offline_once_the_lists_say_so(demo, live_server, tmp_path):
    """The offline answer follows the registry: the merchant's revocation
    reaches the lists, and the saved lists, at the next save."""
    commands = [command for command, _ in readme_commands()]
    token = issue(commands[1])
    save, offline = commands[3], commands[4]
    assert run_verifier(save, token, live_server.url, tmp_path).returncode == 0
    merchant = Merchant.objects.get(registration_number="76.543.210-K")
    merchant_revoke(merchant=merchant, reason="README test")
    assert run_verifier(offline, token, live_server.url, tmp_path).returncode == 0  # the lists saved before
    assert run_verifier(save, token, live_server.url, tmp_path).returncode == 0
    refused = run_verifier(offline, token, live_server.url, tmp_path)
    assert refused.returncode == 1
    assert '"code": "merchant_revoked"' in refused.stdout
    assert '"code": "credential_revoked"' not in refused.stdout  # the entry covers the merchant: not told apart
