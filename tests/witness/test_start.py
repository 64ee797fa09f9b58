"""witness/start.py, witness/state.py, witness/keys.py: what a witness needs
to start, and its refusals to start rather than forget what it cosigned.
Each refusal is one line naming the file and why, and writes nothing."""

import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from recognition.log.notes import COSIGNATURE_V1, parse_vkey
from tests.support.signed_logs import SignedLog
from witness.start import StartError, start

NAME = "witness.example/cl"


@pytest.fixture
def log() -> SignedLog:
    return SignedLog().grow(4)


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "witness.pem", tmp_path / "state.db"


def run(paths, log, *, reset: bool = False, name: str = NAME, logs: list[str] | None = None):
    key, state = paths
    return start(name=name, key=key, state=state, logs=logs or [log.vkey], reset=reset)


def refusal(paths, log, **options) -> str:
    with pytest.raises(StartError) as caught:
        run(paths, log, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_first_run_creates_a_private_key_file_and_a_state(paths, log):
    started = run(paths, log)
    key, state = paths
    assert started.created_key and started.moved_state is None
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    verifier = parse_vkey(started.witness.vkey)
    assert (verifier.name, verifier.sig_type) == (NAME, COSIGNATURE_V1)
    with sqlite3.connect(state) as connection:
        assert connection.execute("SELECT key_id, vkey FROM witness").fetchall() == [
            (verifier.key_id.hex(), started.witness.vkey)
        ]


def test_a_second_run_keeps_the_key_and_what_was_cosigned(paths, log):
    first = run(paths, log)
    assert first.witness.add_checkpoint(log.request(0)).status == 200
    second = run(paths, log)
    assert not second.created_key
    assert second.witness.vkey == first.witness.vkey
    assert second.witness.state.latest(log.origin).size == 4


def test_a_key_without_its_state_refuses_to_start(paths, log):
    run(paths, log)
    paths[1].unlink()
    message = refusal(paths, log)
    assert message == (
        f"state file {paths[1]} is missing but the witness key exists; refusing to start, as the witness would "
        "forget what it cosigned (`--reset-state` starts afresh, forgetting what this witness cosigned)"
    )
    assert not paths[1].exists()


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda path: path.write_bytes(b"this is not a database, it is a note\n" * 200), "not a readable SQLite"),
        (lambda path: path.write_bytes(b""), "not a witness state file of this version"),
        (lambda path: path.write_bytes(path.read_bytes()[:1000]), "not a readable SQLite"),
    ],
    ids=["garbage", "empty", "truncated"],
)
def test_a_damaged_state_refuses_to_start(paths, log, damage, why):
    run(paths, log)
    damage(paths[1])
    message = refusal(paths, log)
    assert message.startswith(f"state file {paths[1]} cannot be used: ")
    assert why in message
    assert message.endswith("refusing to start (`--reset-state` starts afresh, forgetting what this witness cosigned)")


def test_a_state_of_another_schema_refuses_to_start(paths, log):
    run(paths, log)
    with sqlite3.connect(paths[1]) as connection:
        connection.execute("ALTER TABLE cosigned DROP COLUMN request")
    assert "its table cosigned is not the witness's (columns origin, size, root, cosigned_at)" in refusal(paths, log)


def test_a_state_that_fails_its_integrity_check_refuses_to_start(paths, log):
    started = run(paths, log)
    with sqlite3.connect(paths[1]) as connection:
        connection.executemany(
            "INSERT INTO cosigned VALUES (?, 1, ?, '', 0)", [(f"origin {n}", bytes(32)) for n in range(2000)]
        )
        connection.execute("CREATE INDEX by_size ON cosigned (size)")
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(paths[1].read_bytes())
    data[-page + 100 : -page + 400] = bytes(300)  # a page of the index zeroed
    paths[1].write_bytes(bytes(data))
    message = refusal(paths, log)
    assert "it is damaged (PRAGMA integrity_check fails)" in message
    assert started.witness.vkey  # the key is kept for a reset


def test_a_state_of_another_witness_key_refuses_to_start(paths, log, tmp_path):
    other = run((tmp_path / "other.pem", paths[1]), log)
    message = refusal((tmp_path / "mine.pem", paths[1]), log)
    assert "does not exist but state file" in message and "belongs to a lost key" in message
    assert not (tmp_path / "mine.pem").exists()  # nothing written
    run((tmp_path / "mine.pem", tmp_path / "mine.db"), log)
    message = refusal((tmp_path / "mine.pem", paths[1]), log)
    assert f"it belongs to another witness key ({other.witness.vkey})" in message


def test_reset_state_starts_afresh_and_keeps_the_old_file_aside(paths, log):
    first = run(paths, log)
    assert first.witness.add_checkpoint(log.request(0)).status == 200
    paths[1].write_bytes(b"damaged")
    started = run(paths, log, reset=True)
    assert started.moved_state and started.witness.vkey == first.witness.vkey
    assert started.witness.state.latest(log.origin).size == 0
    assert started.witness.add_checkpoint(log.request(0)).status == 200
    assert Path(started.moved_state).read_bytes() == b"damaged"


def test_reset_state_with_a_lost_key_starts_with_a_new_key(paths, log):
    first = run(paths, log)
    paths[0].unlink()
    started = run(paths, log, reset=True)
    assert started.created_key and started.witness.vkey != first.witness.vkey


@pytest.mark.parametrize(
    ("content", "mode", "why"),
    [
        (b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", 0o600, "holds no unencrypted PEM"),
        (None, 0o600, "holds a key that is not Ed25519"),
        (None, 0o644, "is readable by others (mode 0644); `chmod 600"),
    ],
    ids=["not a key", "an EC key", "mode 0644"],
)
def test_an_unusable_key_file_refuses_to_start(paths, log, content, mode, why):
    key, state = paths
    if content is None:
        content = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if mode == 0o644:
            run(paths, log)
            content = key.read_bytes()
    key.write_bytes(content)
    key.chmod(mode)
    message = refusal(paths, log)
    assert message.startswith(f"key file {key} ") and why in message
    assert b"PRIVATE" not in message.encode() and content.decode() not in message


def test_a_key_path_that_is_a_directory_refuses_to_start(paths, log):
    paths[0].mkdir()
    assert refusal(paths, log) == f"key file {paths[0]} is not a regular file"


@pytest.mark.parametrize(
    ("logs", "why"),
    [
        (["not a vkey"], "--log: a vkey has three parts"),
        (["registry.example/log+00000000+AQ=="], "--log: the vkey's Ed25519 public key is 0 bytes"),
    ],
)
def test_a_bad_log_key_refuses_to_start_and_writes_nothing(paths, log, logs, why):
    assert refusal(paths, log, logs=logs).startswith(why)
    assert not paths[0].exists() and not paths[1].exists()


def test_a_bad_witness_name_refuses_to_start(paths, log):
    assert refusal(paths, log, name="two words") == "--name: the key name 'two words' contains a space"
