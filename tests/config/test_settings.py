"""config/settings.py fails closed (STYLE.md "Settings"): each case runs
`manage.py check` in a fresh process whose environment is built from scratch,
so nothing from the test run's own settings leaks in. Last, what the
settings give every run: persistent database connections."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings

from tests.support.cli import python_path

MANAGE = Path(settings.BASE_DIR) / "manage.py"


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    """Production settings: DEBUG unset, a long random SECRET_KEY, one host,
    a throwaway SQLite file, and a registry signing key and an audit log key
    of mode 0600."""
    signing_key = tmp_path / "registry-signing-key.pem"
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signing_key.write_bytes(pem)
    signing_key.chmod(0o600)
    log_key = tmp_path / "audit-log-key.pem"
    log_key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    log_key.chmod(0o600)
    return {
        "AUDIT_LOG_KEY": str(log_key),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "registry.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'settings-check.sqlite3'}",
        "REGISTRY_SIGNING_KEY": str(signing_key),
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": python_path(),
        **env,
    }
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=full_env,
        cwd=MANAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_production_settings(production_env):
    result = manage("check", "--deploy", env=production_env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_when_debug_is_on(production_env):
    result = manage("check", "--deploy", env={**production_env, "DEBUG": "1"})
    assert "security.W018" in result.stdout + result.stderr


def test_load_demo_refuses_production_settings_and_check_deploy_finds_a_forced_demo(production_env):
    migrated = manage("migrate", "--no-input", "-v", "0", env=production_env)
    assert migrated.returncode == 0, migrated.stderr

    refused = manage("load_demo", env=production_env)
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1, refused.stderr
    assert refused.stderr.startswith("error: DEBUG is off: load_demo creates a superuser")
    # Nothing was written: the deploy check finds no demo secret.
    assert manage("check", "--deploy", env=production_env).returncode == 0

    forced = manage("load_demo", "--allow-without-debug", env=production_env)
    assert forced.returncode == 0, forced.stderr
    result = manage("check", "--deploy", env=production_env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for check_id in ("registry.E002", "registry.E003", "registry.E004"):
        assert check_id in output
    assert "demo-admin" in output and "demo-platform" in output


def test_check_deploy_warns_when_the_database_cannot_be_reached(production_env):
    unreachable = {**production_env, "DATABASE_URL": "postgres://registry@127.0.0.1:1/registry"}
    result = manage("check", "--deploy", env=unreachable)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "registry.W002" in output and "could not look for the demo accounts" in output
    assert "Traceback" not in output


def test_refuses_to_start_without_secret_key_when_debug_is_off(production_env):
    del production_env["SECRET_KEY"]
    result = manage("check", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_an_empty_secret_key_is_missing(production_env):
    result = manage("check", env={**production_env, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_witness_a_partner_runs_needs_no_secret_key(production_env):
    del production_env["SECRET_KEY"]
    result = manage("run_witness", "--help", env=production_env)
    assert result.returncode == 0, result.stderr
    assert "--reset-state" in result.stdout
    # Only that command: the registry's own still refuses.
    assert manage("check", env=production_env).returncode != 0


def test_the_registry_commands_need_no_secret_key_and_the_server_does(production_env):
    """`issue_credential` in a fresh shell (README "Try it"): the registry's
    own commands sign nothing with SECRET_KEY; Django's own still refuse."""
    del production_env["SECRET_KEY"]
    result = manage("issue_credential", "--help", env=production_env)
    assert result.returncode == 0, result.stderr
    assert "--private-key" in result.stdout
    for refused in (["check", "--deploy"], ["migrate", "--check"]):
        result = manage(*refused, env=production_env)
        assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr, refused


def test_the_keyless_commands_are_the_registry_commands():
    """Every command of the registry's own apps is listed, and nothing else:
    a new command is decided on, not forgotten, and no Django command slips in."""
    ours = {path.stem for path in Path(settings.BASE_DIR).glob("*/management/commands/*.py")} - {"__init__"}
    assert ours == settings.KEYLESS_COMMANDS


def test_debug_allows_a_missing_secret_key_for_development(production_env):
    del production_env["SECRET_KEY"]
    result = manage("check", env={**production_env, "DEBUG": "1"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("VERIFY_LEEWAY_SECONDS", "abc"),
        ("VERIFY_LEEWAY_SECONDS", "-5"),
        ("MAX_TOKEN_BYTES", "12"),
        ("MAX_CREDENTIAL_LIFETIME_DAYS", "0"),
        ("DATABASE_URL", "nonsense://x"),
        ("SECURE_SSL_REDIRECT", "sometimes"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SECURE_HSTS_PRELOAD", "perhaps"),
        ("API_THROTTLE_RATE", "lots"),
        ("THROTTLE_REDIS_URL", "127.0.0.1:6379"),
        ("AUDIT_WITNESS_QUORUM", "two"),
        ("AUDIT_WITNESS_QUORUM", "-1"),
        ("AUDIT_WITNESS_TIMEOUT", "0"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(production_env, name, value):
    result = manage("check", env={**production_env, name: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured")
    assert name in last_line


def test_production_settings_pass_the_plain_check(production_env):
    result = manage("check", env=production_env)
    assert result.returncode == 0, result.stderr


# The settings in force for this test run -----------------------------------------------------


def test_connections_are_persistent():
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0
    # A persistent connection broken meanwhile is replaced, not used.
    assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
def test_postgresql_connections_compile_no_query(settings):
    """The registry's queries are short and indexed; PostgreSQL's JIT spent
    hundreds of milliseconds compiling one whose cost the planner
    overestimated (a small table not yet analyzed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_options_given_in_the_database_url_are_kept_with_jit_off(monkeypatch):
    from config.settings import _database

    monkeypatch.setenv("DATABASE_URL", "postgres://registry@127.0.0.1/registry?options=-c%20statement_timeout%3D5000")
    options = _database()["OPTIONS"]["options"]
    assert options == "-c statement_timeout=5000 -c jit=off"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"STATUS_LIST_SIZE": "1001"}, "STATUS_LIST_SIZE must be a multiple of 4"),
        ({"STATUS_LIST_SIZE": "0"}, "STATUS_LIST_SIZE must be at least 4"),
        ({"STATUS_LIST_TTL_SECONDS": "600", "STATUS_LIST_LIFETIME_SECONDS": "60"}, "must be at least"),
    ],
)
def test_refuses_status_list_settings_that_make_no_sense(production_env, values, message):
    result = manage("check", env={**production_env, **values})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
