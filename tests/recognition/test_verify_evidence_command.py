"""`manage.py verify_evidence FILE [--log-key VKEY] [--witness-key VKEY ...]`
(DESIGN §11): checks an evidence file with no database and no network,
prints one paragraph of what it proves (exit 0), or one line per failure
(exit 1), never a traceback. No database: in-process with database access
blocked, and as a process whose database cannot be opened.
No network: any socket opened fails the command."""

import json
import socket
import tempfile
import uuid
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.keys import log_key
from tests.support.api import Api, keyed
from tests.support.cli import call, manage
from tests.support.evidence import as_file, cosigned_by, decided, evidence_of, witness
from tests.support.tokens import sign

CN_WITNESS = witness("cn-regulator-witness")


@pytest.fixture
def evidence_file(world, settings, monkeypatch, tmp_path) -> Path:
    platform = Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])
    cosigned_by(monkeypatch, [CN_WITNESS])
    document = evidence_of(keyed(platform.key), decided(platform, settings, sign(world.cl)))
    path = tmp_path / "evidence.json"
    path.write_bytes(as_file(document))
    return path


def no_sockets(monkeypatch) -> None:  # noqa: ANN001
    def refused(*args, **kwargs):
        raise AssertionError("verify_evidence opened a socket")

    monkeypatch.setattr(socket, "socket", refused)
    monkeypatch.setattr(socket, "create_connection", refused)


def test_it_checks_a_file_without_database_or_network(evidence_file, django_db_blocker, monkeypatch):
    no_sockets(monkeypatch)
    with django_db_blocker.block():
        done = call("verify_evidence", evidence_file, "--log-key", log_key().vkey, "--witness-key", CN_WITNESS.vkey)
    assert done.stderr == ""
    (paragraph,) = done.lines
    assert paragraph.startswith("The registry's log registry.example/audit recorded decision ")
    assert "Cosigned by the witnesses cn-regulator-witness." in paragraph


def test_a_failure_is_one_line_each_and_an_error(evidence_file, django_db_blocker, monkeypatch):
    document = json.loads(evidence_file.read_text())
    document["agreement"]["inclusion"][0] = document["agreement"]["inclusion"][1]
    evidence_file.write_text(json.dumps(document))
    no_sockets(monkeypatch)
    with django_db_blocker.block(), pytest.raises(CommandError, match=r"is not valid evidence \(1 failure above\)"):
        call("verify_evidence", evidence_file, "--log-key", log_key().vkey)


def run(*args: object):
    """The command as a process whose database is a SQLite file in a folder
    that does not exist: any connection would fail (and none may be made)."""
    nowhere = Path(tempfile.gettempdir()) / f"no-such-folder-{uuid.uuid4()}" / "db.sqlite3"
    done = manage(nowhere, "verify_evidence", *args)
    assert not nowhere.parent.exists()
    return done


def test_as_a_process_whose_database_does_not_exist(evidence_file):
    done = run(evidence_file, "--log-key", log_key().vkey, "--witness-key", CN_WITNESS.vkey)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == 1 and "leaf" in done.stdout


def test_as_a_process_a_tampered_file_exits_1_naming_each_failure(evidence_file):
    document = json.loads(evidence_file.read_text())
    document["agreement"]["inclusion"][0] = document["agreement"]["inclusion"][1]
    document["receipt"] = document["receipt"][:-2] + "AA"
    evidence_file.write_text(json.dumps(document))
    done = run(evidence_file, "--log-key", log_key().vkey, "--witness-key", witness("absent").vkey)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "does not hold: the inclusion proof of the agreement change entry does not lead to the checkpoint's root",
        "does not hold: the receipt is not signed by the log key",
        "does not hold: the witness absent (given with --witness-key) did not cosign the checkpoint",
        f"error: {evidence_file} is not valid evidence (3 failures above)",
    ]


@pytest.mark.parametrize(
    "content, named",
    [(None, "cannot read"), (b"{not json", "the file is not JSON"), (b"\x00" * 5_000_000, "over the limit")],
)
def test_as_a_process_an_unreadable_file_is_one_line(tmp_path, content, named):
    path = tmp_path / "evidence.json"
    if content is not None:
        path.write_bytes(content)
    done = run(path)
    assert done.returncode == 1
    assert named in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) <= 2
