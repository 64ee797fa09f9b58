"""`make run`'s witnesses (run_demo_witnesses): China's and Chile's
regulators' witnesses start as partners start theirs (run_witness, their
keys made on the first run), are registered with the vkeys they print, and
cosign the demo's checkpoints; started again, they are the same witnesses.
Real processes on a throwaway SQLite file and free local ports."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import MANAGE, manage


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for one in sockets:
        one.bind(("127.0.0.1", 0))
    ports = [one.getsockname()[1] for one in sockets]
    for one in sockets:
        one.close()
    return ports


def run_witnesses(database: Path, directory: Path, ports: list[int]) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}", "AUDIT_INTEGRATOR": "off"}
    env["AUDIT_LOG_KEY"] = str(database.parent / "log-key.pem")
    line = [sys.executable, str(MANAGE), "run_demo_witnesses", "--ports", ",".join(map(str, ports))]
    return subprocess.Popen(
        [*line, "--directory", str(directory)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def registered(process: subprocess.Popen, count: int) -> list[str]:
    lines = []
    deadline = time.monotonic() + 60
    while len(lines) < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return lines


def stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=30)


@pytest.fixture
def demo_database(tmp_path: Path, monkeypatch) -> Path:
    database = tmp_path / "demo.sqlite3"
    monkeypatch.setenv("AUDIT_LOG_KEY", str(tmp_path / "log-key.pem"))
    monkeypatch.setenv("AUDIT_INTEGRATOR", "off")
    assert manage(database, "migrate", "--no-input").returncode == 0
    loaded = manage(database, "load_demo")
    assert loaded.returncode == 0, loaded.stderr
    return database


def test_the_demo_witnesses_cosign_the_demo_log_and_come_back_the_same(demo_database, tmp_path):
    directory, ports = tmp_path / "witnesses", free_ports(2)
    running = run_witnesses(demo_database, directory, ports)
    try:
        said = registered(running, 2)
        assert said == [
            f"registered the demo witness witness.samr.cn.example at http://127.0.0.1:{ports[0]}",
            f"registered the demo witness witness.sernac.cl.example at http://127.0.0.1:{ports[1]}",
        ]
        pushed = manage(demo_database, "integrate_audit_log", "--once")
        assert pushed.returncode == 0, pushed.stderr
        size = pushed.stdout.splitlines()[0].rsplit(" ", 2)[-2]
        assert f"witness witness.samr.cn.example, size {size}: cosigned" in pushed.stdout
        assert f"witness witness.sernac.cl.example, size {size}: cosigned" in pushed.stdout
    finally:
        _, stderr = stop(running)
    assert running.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert sorted(path.name for path in directory.iterdir()) == [
        "cl-sernac.pem", "cl-sernac.sqlite3", "cn-samr.pem", "cn-samr.sqlite3",
    ]  # fmt: skip

    # Started again (a second `make run`): the same keys, nothing registered anew, a new checkpoint cosigned.
    again = run_witnesses(demo_database, directory, ports)
    try:
        time.sleep(0.5)
        changed = manage(demo_database, "create_credential_type", "witnessed-type", "--name", "Witnessed type")
        assert changed.returncode == 0, changed.stderr  # a registry change: a new leaf, a new checkpoint
        for _ in range(60):
            pushed = manage(demo_database, "integrate_audit_log", "--once")
            if pushed.stdout.count(": cosigned") == 2:
                break
            time.sleep(0.5)  # the witnesses are still starting
        assert pushed.stdout.count(": cosigned") == 2, pushed.stdout + pushed.stderr
    finally:
        stdout, stderr = stop(again)
    assert again.returncode == 0, stderr
    assert stdout == ""  # registered already: nothing registered anew


def test_a_demo_witness_registered_with_another_key_is_refused_with_what_to_do(demo_database, tmp_path):
    directory, ports = tmp_path / "witnesses", free_ports(2)
    first = run_witnesses(demo_database, directory, ports)
    try:
        assert len(registered(first, 2)) == 2
    finally:
        stop(first)
    (directory / "cn-samr.pem").unlink()  # var/ removed, the database kept
    (directory / "cn-samr.sqlite3").unlink()
    second = run_witnesses(demo_database, directory, ports)
    try:
        stdout, stderr = second.communicate(timeout=180)  # three Django processes start and stop; slow under -n 2
    finally:
        if second.poll() is None:  # it did not refuse: stop it and its witnesses rather than leave them running
            stop(second)
    assert second.returncode != 0
    assert stderr.strip().splitlines()[-1].startswith("error: the demo witness witness.samr.cn.example is registered")
    assert "`make clean` starts the demo afresh" in stderr and "Traceback" not in stderr


class _Stopped:
    """A witness process that has already stopped."""

    def poll(self) -> int:
        return 1

    def terminate(self) -> None:
        pass

    def wait(self, timeout: float) -> int:
        return 1


def test_registrations_are_announced_only_once_committed(transactional_db, settings, monkeypatch, tmp_path):
    # A stop (SIGTERM) that arrives between an announcement and the commit
    # would roll the registration back after the caller saw it: a later run
    # then registers afresh instead of checking the witnesses' keys.
    from django.core.management import CommandError, call_command
    from django.db import connection

    from core.commands import RegistryCommand
    from demo import witnesses

    settings.DEBUG = True
    running = [witnesses.Running(witnesses.WITNESSES[0], "http://127.0.0.1:1", _Stopped(), vkey="v")]
    monkeypatch.setattr(witnesses, "start", lambda ports, directory: running)
    monkeypatch.setattr(witnesses, "register", lambda running: ["registered the demo witness (test)"])
    announced = []
    monkeypatch.setattr(RegistryCommand, "emit", lambda self, value: announced.append(connection.in_atomic_block))
    with pytest.raises(CommandError, match="stopped"):
        call_command("run_demo_witnesses", "--ports", "1,2", "--directory", str(tmp_path))
    assert announced == [False]
