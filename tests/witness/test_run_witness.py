"""`manage.py run_witness` as a partner runs it: a child process on a free
127.0.0.1 port, spoken to over HTTP/1.1, killed and restarted. It must
remember what it cosigned across a SIGKILL, refuse to start on a missing or
damaged state (one line, non-zero exit, no traceback), and never touch the
registry's database."""

import signal
import socket
import stat

import pytest

from recognition.log.notes import COSIGNATURE_V1, parse_vkey, verify_note
from recognition.log.witnessing import MAX_REQUEST_BYTES
from tests.support.signed_logs import SignedLog, forked
from tests.support.witness_processes import WitnessProcess, command, exchange, refused_start, unused_database


@pytest.fixture
def log() -> SignedLog:
    return SignedLog().grow(5)


@pytest.fixture
def running(tmp_path, log):
    started: list[WitnessProcess] = []

    def run(*extra: str) -> WitnessProcess:
        process = WitnessProcess(tmp_path, log.vkey, extra=extra)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.process.poll() is None:
            process.kill()
    assert not unused_database(tmp_path).exists()


def one_error_line(done) -> str:
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_a_first_run_creates_its_key_prints_its_vkey_and_cosigns(tmp_path, log, running):
    witness = running()
    assert witness.stdout_line.startswith("witness vkey: witness.example/cn+")
    verifier = parse_vkey(witness.vkey)
    assert verifier.sig_type == COSIGNATURE_V1
    assert stat.S_IMODE((tmp_path / "witness.pem").stat().st_mode) == 0o600
    assert witness.saw(f"created the witness key {tmp_path / 'witness.pem'}")
    reply = witness.add_checkpoint(log.request(0))
    assert reply.status == 200
    verify_note(log.checkpoint() + reply.body.decode(), [verifier])
    log.grow(40)
    reply = witness.add_checkpoint(log.request(5))
    assert reply.status == 200
    verify_note(log.checkpoint() + reply.body.decode(), [verifier])
    assert witness.stop() == 0


def test_it_answers_http_as_the_specification_says(log, running):
    witness = running()
    reply = witness.send("GET", "/add-checkpoint")
    assert (reply.status, reply.headers["Allow"], reply.body) == (405, "POST", b"/add-checkpoint takes POST only\n")
    reply = witness.send("POST", "/checkpoint", b"old 0\n\n")
    assert (reply.status, reply.headers["Connection"]) == (404, "close")  # its body was not read
    assert witness.send("GET", "/").status == 404
    reply = witness.send("POST", "/add-checkpoint", b"x", **{"Content-Length": str(MAX_REQUEST_BYTES + 1)})
    assert reply.status == 413
    assert (
        reply.body == f"the request is {MAX_REQUEST_BYTES + 1} bytes, over the limit of {MAX_REQUEST_BYTES}\n".encode()
    )
    reply = witness.add_checkpoint(b"old 0\n\nnot a note\n")
    assert reply.status == 400 and reply.content_type == "text/plain; charset=utf-8"
    assert witness.saw("refused a request (400): malformed request: ")


def raw(witness: WitnessProcess, request: bytes) -> bytes:
    """What the witness answers to raw bytes, until it closes the connection."""
    port = int(witness.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_request_without_length_or_with_a_bad_request_line_is_refused_in_plain_text(running):
    witness = running()
    answer = raw(witness, b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and answer.endswith(b"\r\n\r\nthe request needs a Content-Length\n")
    answer = raw(witness, b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"the Content-Length '-1' is not a number\n")
    answer = raw(witness, b"POST /add-checkpoint HTTP/one\r\n\r\n")
    assert answer == b"Bad request version ('HTTP/one')\n"  # no version to answer in: the line alone
    assert witness.process.poll() is None


def test_one_connection_carries_several_requests(log, running):
    witness = running()
    connection = witness.connection()
    try:
        assert exchange(connection, "POST", "/add-checkpoint", log.request(0), {}).status == 200
        log.grow(3)
        assert exchange(connection, "POST", "/add-checkpoint", log.request(5), {}).status == 200
        reply = exchange(connection, "POST", "/add-checkpoint", log.request(0), {})
        assert (reply.status, reply.content_type, reply.body) == (409, "text/x.tlog.size", b"8\n")
    finally:
        connection.close()


def test_killed_mid_run_it_remembers_what_it_cosigned(log, running):
    first = running()
    assert first.add_checkpoint(log.request(0)).status == 200
    log.grow(4)
    assert first.add_checkpoint(log.request(5)).status == 200
    first.kill()
    second = running()
    assert second.vkey == first.vkey
    reply = second.add_checkpoint(log.request(0))
    assert (reply.status, reply.content_type, reply.body) == (409, "text/x.tlog.size", b"9\n")
    fork = forked(log, 7, 6)
    reply = second.add_checkpoint(fork.request(9))
    assert reply.status == 422
    assert (
        reply.body == b"checkpoint of size 13 is not consistent with the checkpoint of size 9 this witness cosigned\n"
    )
    log.grow(4)
    assert second.add_checkpoint(log.request(9)).status == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_it_stops_cleanly_on_a_signal_and_keeps_its_state(log, running, signum):
    witness = running()
    assert witness.add_checkpoint(log.request(0)).status == 200
    assert witness.stop(signum) == 0
    assert witness.saw("the witness stops")
    again = running()
    assert again.add_checkpoint(log.request(0)).body == b"5\n"


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda path: path.unlink(), "is missing but the witness key exists"),
        (lambda path: path.write_bytes(b"\x00garbage" * 500), "cannot be used: it is not a readable SQLite database"),
    ],
    ids=["deleted", "garbage"],
)
def test_a_lost_or_damaged_state_stops_it_until_reset(tmp_path, log, running, damage, why):
    witness = running()
    assert witness.add_checkpoint(log.request(0)).status == 200
    witness.kill()
    damage(tmp_path / "state.db")
    line = one_error_line(refused_start(tmp_path, *command(tmp_path, log.vkey)[3:]))
    assert line.startswith(f"error: state file {tmp_path / 'state.db'} ") and why in line
    assert "`--reset-state` starts afresh, forgetting what this witness cosigned" in line
    fresh = running("--reset-state")
    assert fresh.vkey == witness.vkey
    # Printed before "listening on", which the start waited for.
    moved = [line for line in fresh.stderr_lines if line.startswith("--reset-state: the old state file is now ")]
    assert len(moved) == (1 if why.startswith("cannot be used") else 0)  # a deleted file cannot be moved
    assert fresh.add_checkpoint(log.request(0)).status == 200


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            ("--listen", "127.0.0.1"),
            "error: argument --listen: '127.0.0.1' is not HOST:PORT (for example 127.0.0.1:8380)",
        ),
        (("--listen", "127.0.0.1:99999"), "error: argument --listen: '127.0.0.1:99999' is not HOST:PORT"),
        (("--log", "not-a-vkey"), "error: --log: a vkey has three parts"),
        (("--name", "a name"), "error: --name: the key name 'a name' contains a space"),
    ],
)
def test_bad_flags_are_one_clear_line(tmp_path, log, change, why):
    arguments = command(tmp_path, log.vkey)[3:]
    flag, value = change
    if flag == "--log":
        arguments += [flag, value]
    else:
        arguments[arguments.index(flag) + 1] = value
    assert one_error_line(refused_start(tmp_path, *arguments)).startswith(why)
    assert not (tmp_path / "witness.pem").exists() and not (tmp_path / "state.db").exists()


def test_an_unreadable_key_file_is_one_clear_line(tmp_path, log):
    (tmp_path / "witness.pem").write_text("not a key\n")
    (tmp_path / "witness.pem").chmod(0o600)
    line = one_error_line(refused_start(tmp_path, *command(tmp_path, log.vkey)[3:]))
    assert (
        line
        == f"error: key file {tmp_path / 'witness.pem'} holds no unencrypted PEM private key (expected Ed25519, PKCS#8)"
    )


def test_a_port_in_use_is_one_clear_line(tmp_path, log, running):
    witness = running()
    port = witness.url.split(":")[2].split("/")[0]
    arguments = command(tmp_path / "other", log.vkey)[3:]
    arguments[arguments.index("--listen") + 1] = f"127.0.0.1:{port}"
    (tmp_path / "other").mkdir()
    line = one_error_line(refused_start(tmp_path, *arguments))
    assert line == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert not (tmp_path / "other" / "witness.pem").exists()


def test_a_missing_log_flag_is_refused(tmp_path):
    arguments = command(tmp_path)[3:]
    assert "the following arguments are required: --log" in one_error_line(refused_start(tmp_path, *arguments))
