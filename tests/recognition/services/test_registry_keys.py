"""The registry's own signing key (DESIGN §8, §10):
REGISTRY_SIGNING_KEY, generated (mode 0600) in development, required in
production at start-up and by `check --deploy`; rotation keeps the old key
published for one trust-list lifetime; workers follow a replaced file."""

import errno
import io
import os
import secrets
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from recognition.checks import check_registry_signing_key
from recognition.models import RegistryKey
from recognition.services.registry_keys import load_signing_key, published_keys, registry_key_rotate, signing_key
from tests.support.cli import python_path

BASE_DIR = Path(django_settings.BASE_DIR)
TTL = 3600


def pem_of(private_key, password: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@pytest.fixture
def key_file(settings, tmp_path) -> Path:
    path = tmp_path / "keys" / "k.pem"
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(path), "TRUST_LIST_TTL_SECONDS": TTL}
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# Loading ---------------------------------------------------------------------


def test_development_generates_a_missing_key_with_mode_0600(settings, key_file):
    settings.DEBUG = True
    key = load_signing_key()
    assert key_file.exists() and mode_of(key_file) == 0o600
    assert key.alg == "ES256" and key.public_jwk["crv"] == "P-256"
    assert load_signing_key().kid == key.kid  # generated once, then read


def test_production_refuses_a_missing_key_naming_the_variable(settings, key_file):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match=r"REGISTRY_SIGNING_KEY .*k\.pem does not exist"):
        load_signing_key()
    assert not key_file.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key at all\n", "holds no unencrypted PEM private key"),
        (b"", "holds no unencrypted PEM private key"),
        (pem_of(ed25519.Ed25519PrivateKey.generate(), b"secret"), "holds no unencrypted PEM private key"),
        (pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "holds an RSA key"),
        (pem_of(ec.generate_private_key(ec.SECP384R1())), "holds an EC key on secp384r1"),
    ],
    ids=["not-pem", "empty", "encrypted", "rsa", "p384"],
)
def test_a_file_that_is_not_a_usable_key_is_a_clear_error(settings, key_file, content, message):
    settings.DEBUG = True  # even in development: an existing file is never replaced
    key_file.parent.mkdir()
    key_file.write_bytes(content)
    with pytest.raises(ImproperlyConfigured, match=f"REGISTRY_SIGNING_KEY .*{message}"):
        load_signing_key()
    assert key_file.read_bytes() == content


def test_an_empty_setting_or_a_directory_is_a_clear_error(settings, tmp_path):
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": ""}
    with pytest.raises(ImproperlyConfigured, match="REGISTRY_SIGNING_KEY is empty"):
        load_signing_key()
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path)}
    with pytest.raises(ImproperlyConfigured, match="is not a regular file"):
        load_signing_key()


def test_an_unreadable_key_is_a_clear_error(key_file, monkeypatch):
    key_file.parent.mkdir()
    key_file.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))

    def refuse(path: Path) -> bytes:
        # As chmod 000 would for any user but root (the tests may run as root).
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ImproperlyConfigured, match="REGISTRY_SIGNING_KEY .* cannot be read: Permission denied"):
        load_signing_key()


def test_ed25519_keys_are_accepted(key_file):
    key_file.parent.mkdir()
    key_file.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    assert load_signing_key().alg == "EdDSA"


def test_every_worker_follows_a_key_file_replaced_under_it(key_file):
    # Another process (rotate_registry_key) replaces the file by rename: the
    # next use sees the new inode and reads it, without a restart.
    key_file.parent.mkdir()
    key_file.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    before = load_signing_key()
    replacement = key_file.with_name("new.pem")
    replacement.write_bytes(pem_of(ec.generate_private_key(ec.SECP256R1())))
    os.replace(replacement, key_file)
    after = load_signing_key()
    assert (after.alg, before.alg) == ("ES256", "EdDSA") and after.kid != before.kid


# Publication and rotation ----------------------------------------------------


def test_rotation_keeps_the_old_key_published_for_one_trust_list_lifetime(db, key_file, monkeypatch):
    first = registry_key_rotate()
    assert mode_of(key_file) == 0o600
    second = registry_key_rotate(alg="EdDSA")
    assert signing_key().kid == second.kid and second.alg == "EdDSA"
    old = RegistryKey.objects.get(kid=first.kid)
    assert old.publish_until == old.retired_at + timedelta(seconds=TTL)
    assert RegistryKey.objects.get(kid=second.kid).retired_at is None
    assert [key["kid"] for key in published_keys()] == [second.kid, first.kid]
    monkeypatch.setattr(timezone, "now", lambda: old.publish_until)
    assert [key["kid"] for key in published_keys()] == [second.kid]


def test_a_key_file_replaced_by_hand_retires_the_previous_key(db, key_file):
    first = registry_key_rotate()
    key_file.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))  # not through the command
    current = signing_key()
    previous = RegistryKey.objects.get(kid=first.kid)
    assert previous.retired_at is not None
    assert previous.publish_until == previous.retired_at + timedelta(seconds=TTL)
    assert [key["kid"] for key in published_keys()] == [current.kid, first.kid]


def test_published_keys_never_carry_a_private_member(db, key_file):
    registry_key_rotate()
    registry_key_rotate(alg="EdDSA")
    RegistryKey.objects.update(public_jwk={"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "secret", "kid": "x"})
    for key in published_keys():
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)


def test_rotation_refuses_to_overwrite_a_file_it_cannot_read_as_a_key(db, key_file):
    key_file.parent.mkdir()
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ImproperlyConfigured, match="holds no unencrypted PEM private key"):
        registry_key_rotate()
    assert b"garbage" in key_file.read_bytes()
    assert not RegistryKey.objects.exists()


def test_rotate_registry_key_prints_the_new_kid(db, key_file):
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_registry_key", stdout=out, stderr=err)
    first = out.getvalue().strip()
    out = io.StringIO()
    call_command("rotate_registry_key", "--alg", "EdDSA", stdout=out, stderr=err)
    second = out.getvalue().strip()
    assert first != second and signing_key().kid == second
    assert f"retired key {first} stays published until" in err.getvalue()


def test_rotate_registry_key_reports_an_unusable_file_on_one_line(db, key_file):
    key_file.parent.mkdir()
    key_file.write_bytes(b"junk")
    with pytest.raises(CommandError, match="REGISTRY_SIGNING_KEY .* holds no unencrypted PEM private key"):
        call_command("rotate_registry_key", stdout=io.StringIO(), stderr=io.StringIO())


# The deploy check -------------------------------------------------------------


def test_deploy_check_reports_a_missing_key_in_production(settings, key_file):
    settings.DEBUG = False
    (error,) = check_registry_signing_key()
    assert error.id == "registry.E001" and "REGISTRY_SIGNING_KEY" in error.msg
    settings.DEBUG = True  # development: generated on first use, nothing to report
    assert check_registry_signing_key() == []
    assert not key_file.exists()  # a check has no side effect


def test_deploy_check_warns_about_a_key_readable_by_others(settings, key_file):
    key_file.parent.mkdir()
    key_file.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    key_file.chmod(0o644)
    (warning,) = check_registry_signing_key()
    assert warning.id == "registry.W001"
    key_file.chmod(0o600)
    assert check_registry_signing_key() == []


# Start-up, in a fresh process ---------------------------------------------------


def run_python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Python in a fresh process, its environment built from scratch: a
    usable audit log key of its own (tests/recognition/log/test_keys.py
    tests that one), so that nothing is read or written in the source tree."""
    log_key = tmp_path / "audit-log-key.pem"
    log_key.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    log_key.chmod(0o600)
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "registry.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start-up.sqlite3'}",
        "AUDIT_LOG_KEY": str(log_key),
        "AUDIT_INTEGRATOR": "off",
        "PYTHONPATH": python_path(),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_production_start_up_stops_without_the_key(tmp_path, module):
    missing = tmp_path / "missing.pem"
    result = run_python(f"import {module}", {"DEBUG": "0", "REGISTRY_SIGNING_KEY": str(missing)}, tmp_path)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: REGISTRY_SIGNING_KEY")
    assert "does not exist" in last_line
    assert not missing.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "holds no unencrypted PEM private key"),
        (pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "holds an RSA key"),
    ],
    ids=["not-pem", "rsa"],
)
def test_production_start_up_stops_on_a_key_that_is_not_usable(tmp_path, content, message):
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    result = run_python("import config.wsgi", {"DEBUG": "0", "REGISTRY_SIGNING_KEY": str(path)}, tmp_path)
    assert result.returncode != 0
    assert "REGISTRY_SIGNING_KEY" in result.stderr and message in result.stderr


def test_production_start_up_succeeds_with_the_key(tmp_path):
    path = tmp_path / "good.pem"
    path.write_bytes(pem_of(ed25519.Ed25519PrivateKey.generate()))
    path.chmod(0o600)
    result = run_python(
        "import config.wsgi; print(callable(config.wsgi.application))",
        {"DEBUG": "0", "REGISTRY_SIGNING_KEY": str(path)},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_development_start_up_generates_the_key_with_mode_0600(tmp_path):
    path = tmp_path / "var" / "dev.pem"
    result = run_python("import config.wsgi", {"DEBUG": "1", "REGISTRY_SIGNING_KEY": str(path)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert mode_of(path) == 0o600
    assert serialization.load_pem_private_key(path.read_bytes(), password=None).curve.name == "secp256r1"


def test_check_deploy_reports_the_missing_key_as_registry_e001(tmp_path):
    result = run_python(
        "import sys; from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy'])",
        {"DEBUG": "0", "REGISTRY_SIGNING_KEY": str(tmp_path / "missing.pem")},
        tmp_path,
    )
    assert result.returncode != 0
    assert "registry.E001" in result.stderr and "REGISTRY_SIGNING_KEY" in result.stderr
