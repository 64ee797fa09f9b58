"""The audit log's key (DESIGN §6): an Ed25519 PEM at AUDIT_LOG_KEY, created
or replaced by `manage.py rotate_audit_log_key` (mode 0600, the new vkey
printed), the replaced one's public key listed as retired by `GET
/api/v1/audit/log/key` so that the checkpoints it signed stay verifiable;
required in production, at start-up and by `check --deploy`; a file that is
not an Ed25519 key is refused and never overwritten."""

import base64
import hashlib
import os
import secrets
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.utils import timezone

from recognition.checks import check_audit_log_key
from recognition.log.integrator import integrate
from recognition.log.integrity import check_log
from recognition.log.keys import log_key
from recognition.log.notes import NoteError, parse_vkey, verify_note
from recognition.models import Checkpoint, LogPublicKey
from recognition.services.audit import record_decisions
from tests.support.audit import entry
from tests.support.cli import call, python_path

BASE_DIR = Path(django_settings.BASE_DIR)
KEY_URL = "/api/v1/audit/log/key"


@pytest.fixture
def key_path(settings, tmp_path) -> Path:
    """AUDIT_LOG_KEY for this test: a path where no file is yet."""
    path = tmp_path / "keys" / "audit-log-key.pem"
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "KEY_PATH": str(path)}
    return path


def pem_of(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def vkey_of(path: Path) -> str:
    """DESIGN §6's vkey of the key in `path`, written out again:
    <name>+<hex key ID>+<base64(0x01 || public key)>, the key ID the first 4
    bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private_key, ed25519.Ed25519PrivateKey)
    public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    name = django_settings.AUDIT_LOG["ORIGIN"]
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(bytes([1]) + public).decode()
    return f"{name}+{key_id.hex()}+{encoded}"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def published(client) -> list[str]:
    response = client.get(KEY_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.endswith("\n")
    return text[:-1].split("\n")


class Clock:
    """timezone.now, moved on by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def checkpoint_now(clock: Clock) -> Checkpoint:
    """Record a decision and sign a checkpoint over it, a minute after the
    last one (AUDIT_CHECKPOINT_SECONDS is 1 in the tests)."""
    clock.now += timedelta(minutes=1)
    record_decisions([entry()], at=timezone.now())
    done = integrate()
    assert done.checkpoint is not None
    return done.checkpoint


# rotate_audit_log_key --------------------------------------------------------------------------


def test_rotate_creates_the_key_file_with_mode_0600_and_prints_its_vkey(db, key_path):
    out = call("rotate_audit_log_key")

    assert key_path.exists() and mode_of(key_path) == 0o600
    assert out.stdout == vkey_of(key_path) + "\n"
    assert log_key().vkey == vkey_of(key_path)
    assert f"{key_path} now holds the log key" in out.stderr


def test_a_second_rotation_lists_the_old_key_as_retired_and_its_checkpoints_still_verify(
    db, client, key_path, settings, clock
):
    first = call("rotate_audit_log_key").stdout.strip()
    old_checkpoint = checkpoint_now(clock)
    assert published(client) == [first]

    second = call("rotate_audit_log_key").stdout.strip()
    assert second != first and second == vkey_of(key_path)
    assert published(client) == [second, first]  # the current key first, then the retired one
    (retired,) = LogPublicKey.objects.filter(retired_at__isnull=False)
    assert retired.name == settings.AUDIT_LOG["ORIGIN"]

    new_checkpoint = checkpoint_now(clock)
    verifiers = [parse_vkey(line) for line in published(client)]
    for checkpoint, signer in [(old_checkpoint, first), (new_checkpoint, second)]:
        text, verified = verify_note(checkpoint.note, verifiers)
        assert text.split("\n")[1] == str(checkpoint.size)
        assert verified == [parse_vkey(signer)]
    with pytest.raises(NoteError):  # the old checkpoint is the old key's alone
        verify_note(old_checkpoint.note, [parse_vkey(second)])
    assert check_log().intact

    third = call("rotate_audit_log_key").stdout.strip()
    assert published(client) == [third, second, first]


@pytest.mark.parametrize(
    "content",
    [
        b"not a key at all\n",
        b"",
        pem_of(ec.generate_private_key(ec.SECP256R1())),
    ],
    ids=["not-pem", "empty", "p256"],
)
def test_a_file_that_is_not_an_ed25519_key_is_refused_and_never_overwritten(db, key_path, settings, content):
    key_path.parent.mkdir()
    key_path.write_bytes(content)

    with pytest.raises(CommandError, match=r"^AUDIT_LOG_KEY .*audit-log-key\.pem (holds|is)"):
        call("rotate_audit_log_key")
    settings.DEBUG = True  # even in development, where a missing key is generated
    with pytest.raises(ImproperlyConfigured, match="AUDIT_LOG_KEY"):
        log_key()

    assert key_path.read_bytes() == content
    assert LogPublicKey.objects.count() == 0


def test_an_ec_key_is_named_as_such(db, key_path):
    key_path.parent.mkdir()
    key_path.write_bytes(pem_of(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ImproperlyConfigured, match="holds an EC key on secp256r1; the audit log signs with Ed25519"):
        log_key()


def test_development_generates_a_missing_key_with_mode_0600_and_production_refuses(db, key_path, settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match=r"^AUDIT_LOG_KEY .*audit-log-key\.pem does not exist"):
        log_key()
    assert not key_path.exists()
    (error,) = check_audit_log_key()
    assert error.id == "registry.E005" and "AUDIT_LOG_KEY" in error.msg

    settings.DEBUG = True
    assert check_audit_log_key() == []  # development: generated on first use
    key = log_key()
    assert mode_of(key_path) == 0o600 and key.vkey == vkey_of(key_path)


def test_the_deploy_check_warns_about_a_key_file_others_can_read(key_path):
    key_path.parent.mkdir()
    key_path.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    key_path.chmod(0o640)
    (warning,) = check_audit_log_key()
    assert warning.id == "registry.W003" and "AUDIT_LOG_KEY" in warning.msg
    key_path.chmod(0o600)
    assert check_audit_log_key() == []


# Start-up and check --deploy in production, in a fresh process ---------------------------------------


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Python in a fresh process with production settings built from scratch
    (DEBUG off) and a usable REGISTRY_SIGNING_KEY."""
    signing_key = tmp_path / "registry-signing-key.pem"
    signing_key.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    signing_key.chmod(0o600)
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "registry.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start-up.sqlite3'}",
        "REGISTRY_SIGNING_KEY": str(signing_key),
        "AUDIT_INTEGRATOR": "off",
        "PYTHONPATH": python_path(),
        "DEBUG": "0",
        **env,
    }
    return subprocess.run(  # noqa: S603 (our own code)
        [sys.executable, "-c", code],
        env=full_env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_production_start_up_stops_without_the_log_key_naming_it(tmp_path, module):
    missing = tmp_path / "missing-log-key.pem"
    result = run_python(f"import {module}", tmp_path, AUDIT_LOG_KEY=str(missing))
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: AUDIT_LOG_KEY")
    assert "does not exist" in last_line and "rotate_audit_log_key" in last_line
    assert not missing.exists()


def test_production_start_up_stops_on_a_log_key_that_is_not_ed25519(tmp_path):
    path = tmp_path / "p256.pem"
    path.write_bytes(pem_of(ec.generate_private_key(ec.SECP256R1())))
    result = run_python("import config.wsgi", tmp_path, AUDIT_LOG_KEY=str(path))
    assert result.returncode != 0
    assert "AUDIT_LOG_KEY" in result.stderr and "the audit log signs with Ed25519" in result.stderr


def test_production_start_up_succeeds_with_the_log_key(tmp_path):
    path = tmp_path / "log-key.pem"
    path.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    path.chmod(0o600)
    result = run_python(
        "import config.wsgi; print(callable(config.wsgi.application))", tmp_path, AUDIT_LOG_KEY=str(path)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_check_deploy_reports_the_missing_log_key_as_registry_e005(tmp_path):
    result = run_python(
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy'])",
        tmp_path,
        AUDIT_LOG_KEY=str(tmp_path / "missing.pem"),
    )
    assert result.returncode != 0
    assert "registry.E005" in result.stderr and "AUDIT_LOG_KEY" in result.stderr
    assert "registry.E001" not in result.stderr  # the other key is there
