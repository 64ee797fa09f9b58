"""The README's "Checking a dispute's evidence" walkthrough, run as a reader
runs it: its shell commands, as shown, against a live registry whose
checkpoint two witnesses cosign; the check in a process whose database
cannot be opened. Its outputs are the README's: the paragraph when all
holds, and, for a file whose proof was altered and a required witness that
did not cosign, exactly the failure lines it shows."""

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.integrator import integrate_all
from recognition.log.keys import log_key
from tests.support.api import Api
from tests.support.cli import MANAGE
from tests.support.evidence import cosigned_by, witness
from tests.support.tokens import sign

CN_WITNESS, CL_WITNESS = witness("cn-regulator-witness"), witness("cl-regulator-witness")


def section() -> str:
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    return re.split(r"\n##+ ", readme.split("### Checking a dispute's evidence\n", 1)[1], maxsplit=1)[0]


def shown_blocks() -> tuple[str, str, str]:
    """The commands, the paragraph and the failure lines the README shows."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section(), flags=re.DOTALL | re.MULTILINE)
    assert [language for language, _ in blocks] == ["sh", "", ""]
    (_, commands), (_, paragraph), (_, failures) = blocks
    return commands, paragraph, failures


@pytest.fixture
def registry(world, live_server, settings) -> dict[str, str]:
    """A decision of a platform, integrated; the environment the README's
    commands read."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    platform = Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])
    decision = platform.verify(sign(world.cl), "CN").json()["id"]
    integrate_all()
    return {
        "REGISTRY": live_server.url,
        "API_KEY": api_key_create(name="court-regulator", role="regulator")[1],
        "DECISION": decision,
        "LOG_VKEY": log_key().vkey,
        "CN_WITNESS_VKEY": CN_WITNESS.vkey,
        "CL_WITNESS_VKEY": CL_WITNESS.vkey,
    }


def run_readme(environment: dict[str, str], workdir: Path, *, before_check=None) -> subprocess.CompletedProcess:  # noqa: ANN001
    """The README's commands, one after the other, in `workdir`; `python
    manage.py` is this interpreter and this checkout's manage.py."""
    commands, _, _ = shown_blocks()
    fetch, verify = [command for command in commands.replace("\\\n", " ").splitlines() if command.strip()]
    nowhere = Path(tempfile.gettempdir()) / f"no-such-folder-{uuid.uuid4()}" / "db.sqlite3"
    env = {**os.environ, **environment, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{nowhere}"}
    fetched = subprocess.run(["bash", "-c", fetch], cwd=workdir, env=env, capture_output=True, text=True, check=False)
    assert fetched.returncode == 0, fetched.stderr
    if before_check is not None:
        before_check(workdir / "evidence.json")
    verify = verify.replace("python manage.py", f"{sys.executable} {MANAGE}", 1)
    done = subprocess.run(["bash", "-c", verify], cwd=workdir, env=env, capture_output=True, text=True, check=False)
    assert not nowhere.parent.exists()
    return done


@pytest.mark.django_db(transaction=True)
def test_a_court_checks_a_decisions_evidence_with_the_readme_commands(registry, monkeypatch, tmp_path):
    cosigned_by(monkeypatch, [CN_WITNESS, CL_WITNESS])
    done = run_readme(registry, tmp_path)
    assert done.returncode == 0, done.stderr
    (paragraph,) = done.stdout.splitlines()
    _, shown, _ = shown_blocks()
    for phrase in (
        "The registry's log registry.example/audit recorded decision ",
        ": accepted (reasons: none) at ",
        ", for destination CN and origin CL (declared: none), for the token of issuer ",
        " as of the decision (status active) is leaf ",
        "; the receipt is signed by the same key and promises this entry. ",
        "Cosigned by the witnesses cn-regulator-witness, cl-regulator-witness.",
    ):
        assert phrase in paragraph and phrase in " ".join(shown.split("\n")), phrase
    assert f"recorded decision {registry['DECISION']}: " in paragraph


@pytest.mark.django_db(transaction=True)
def test_an_altered_file_fails_with_the_lines_the_readme_shows(registry, monkeypatch, tmp_path):
    cosigned_by(monkeypatch, [CN_WITNESS], in_service=[CN_WITNESS, CL_WITNESS])

    def alter(path: Path) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        document["agreement"]["inclusion"].reverse()
        path.write_text(json.dumps(document), encoding="utf-8")

    done = run_readme(registry, tmp_path, before_check=alter)
    assert done.returncode == 1
    _, _, failures = shown_blocks()
    assert done.stderr.splitlines() == failures.splitlines()
