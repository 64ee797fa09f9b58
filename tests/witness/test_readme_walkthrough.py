"""The README's "Running a witness" walkthrough, run as a partner and an
operator run it: its three shell commands as shown (the witness as a real
process, with no database and no SECRET_KEY; the operator's add_witness;
anyone's curl of the checkpoint) against a live registry. Then the evidence
of a decision, proven against that cosigned checkpoint, checks offline with
the witness's vkey as the README's court would give it."""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.evidence import check
from recognition.log.keys import log_key
from recognition.log.notes import parse_vkey, verify_note
from recognition.log.pusher import COSIGNED, push_latest
from tests.support.api import Api, keyed
from tests.support.cli import MANAGE
from tests.support.evidence import as_file, decided, evidence_of
from tests.support.tokens import sign

SHOWN_PORT = "127.0.0.1:8380"


def walkthrough() -> list[str]:
    """The shell commands of the section, each joined onto one line."""
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    section = re.split(r"\n##+ ", readme.split("### Running a witness (partner countries)\n", 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    return [block.replace("\\\n", " ").strip() for block in blocks]


def free_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def here(command: str, address: str) -> str:
    """The README's command for this checkout, this interpreter and a free port."""
    return command.replace("python manage.py", f"{sys.executable} {MANAGE}", 1).replace(SHOWN_PORT, address)


def test_the_readme_shows_three_commands_a_partner_an_operator_and_anyone_run():
    run_witness, add_witness, curl = walkthrough()
    assert run_witness.startswith("python manage.py run_witness ") and '--log "$LOG_VKEY"' in run_witness
    assert add_witness.startswith("python manage.py add_witness ") and '--vkey "$WITNESS_VKEY"' in add_witness
    assert curl == 'curl -s "$REGISTRY/api/v1/audit/log/checkpoint"'


@pytest.mark.django_db(transaction=True)
def test_the_readme_walkthrough_gets_the_checkpoint_cosigned_and_the_evidence_checks(
    world, live_server, settings, tmp_path
):
    platform = Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])
    decision = decided(platform, settings, sign(world.cl))
    run_witness, add_witness, curl = walkthrough()
    address = free_address()

    # The partner: no database, no SECRET_KEY, DEBUG off.
    nowhere = Path(tempfile.gettempdir()) / f"no-such-folder-{uuid.uuid4()}" / "db.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")}
    env |= {"LOG_VKEY": log_key().vkey, "DATABASE_URL": f"sqlite:///{nowhere}"}
    witness = subprocess.Popen(
        ["bash", "-c", "exec " + here(run_witness, address)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        printed = witness.stdout.readline()
        assert printed.startswith("witness vkey: witness.cl.example/registry+"), witness.stderr.read()
        witness_vkey = printed.removeprefix("witness vkey: ").strip()
        assert parse_vkey(witness_vkey).sig_type == 0x04

        # The operator: the README's add_witness with the vkey the partner sent.
        words = shlex.split(here(add_witness, address).replace("$WITNESS_VKEY", witness_vkey))
        call_command(*words[2:], stdout=StringIO())
        outcomes = push_latest()  # it listens before it prints its vkey
        assert [outcome.outcome for outcome in outcomes] == [COSIGNED], outcomes

        # Anyone: the served checkpoint carries the log's line, then the witness's.
        shown = subprocess.run(
            ["bash", "-c", curl], env={**os.environ, "REGISTRY": live_server.url},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        verifiers = [parse_vkey(log_key().vkey), parse_vkey(witness_vkey)]
        assert [v.name for v in verify_note(shown.stdout, verifiers)[1]] == [
            log_key().name, "witness.cl.example/registry",
        ]  # fmt: skip

        # A court: the decision's evidence, proven against that checkpoint, checks with the witness's key.
        regulator = keyed(api_key_create(name="court", role="regulator")[1])
        outcome = check(
            as_file(evidence_of(regulator, decision)), log_keys=[log_key().vkey], witness_keys=[witness_vkey]
        )
        assert outcome.failures == []
        assert "Cosigned by the witnesses witness.cl.example/registry." in outcome.paragraph
    finally:
        witness.send_signal(signal.SIGTERM)
        _, stderr = witness.communicate(timeout=30)
    assert witness.returncode == 0, stderr
    assert "Traceback" not in stderr and not nowhere.parent.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["witness-state.sqlite3", "witness.pem"]
