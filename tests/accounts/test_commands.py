"""`manage.py create_api_key NAME [--role platform|regulator]` (DESIGN §7):
the key is printed once and works; the database holds only its hash; bad
input is one line on stderr; a revoked key is refused; the audit row names
the key."""

import hashlib
from pathlib import Path

import pytest
from django.core.management import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiKey, KeyRole
from recognition.models import Verification
from tests.support.api import VERIFY_URL
from tests.support.cli import Process, call, manage
from tests.support.tokens import sign


def create_key(name: str, *options: str) -> str:
    output = call("create_api_key", name, *options)
    lines = output.lines
    assert len(lines) == 1, output.stdout
    return lines[0]


def verify_with(key: str, world) -> object:
    return APIClient().post(
        VERIFY_URL,
        {"token": sign(world.cl), "destination": "CN", "origin": "CL"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def test_prints_only_the_key_and_the_key_verifies(world):
    output = call("create_api_key", "acme-marketplace")
    key = output.stdout.strip()
    assert output.stdout == key + "\n"
    assert key not in output.stderr
    assert "acme-marketplace" in output.stderr and "not shown again" in output.stderr
    api_key = ApiKey.objects.get(name="acme-marketplace")
    assert api_key.role == KeyRole.PLATFORM
    assert key.startswith(api_key.prefix + ".")
    response = verify_with(key, world)
    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"


def test_the_database_holds_only_a_hash_of_the_key(world):
    key = create_key("hash-only-platform")
    secret = key.partition(".")[2]
    assert len(secret) >= 32
    row = ApiKey.objects.values().get(name="hash-only-platform")
    for column, value in row.items():
        assert secret not in str(value), column
        assert key not in str(value), column
    assert row["hashed_key"] == "sha512$$" + hashlib.sha512(key.encode()).hexdigest()


def test_each_key_is_new(world):
    assert create_key("first-platform") != create_key("second-platform")


def test_a_regulator_key_verifies_too(world):
    key = create_key("market-watch", "--role", "regulator")
    assert ApiKey.objects.get(name="market-watch").role == KeyRole.REGULATOR
    assert verify_with(key, world).status_code == 200


def test_the_audit_row_names_the_key(world):
    key = create_key("silk-road-mall")
    verify_with(key, world)
    assert Verification.objects.get().client == "silk-road-mall"


def test_a_revoked_key_is_refused_with_401(world):
    key = create_key("closed-platform")
    api_key = ApiKey.objects.get(name="closed-platform")
    api_key.revoked = True
    api_key.save()
    response = verify_with(key, world)
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
    assert not Verification.objects.exists()


def test_a_duplicate_name_is_refused_and_nothing_is_written(world):
    create_key("twice-platform")
    with pytest.raises(CommandError, match="already exists"):
        call("create_api_key", "twice-platform", "--role", "regulator")
    assert ApiKey.objects.filter(name="twice-platform").count() == 1


def test_a_blank_name_is_refused(world):
    with pytest.raises(CommandError, match="needs a name"):
        call("create_api_key", "  ")
    assert not ApiKey.objects.exists()


# What a script sees: real processes ------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-keys") / "registry.sqlite3"
    migrated = manage(path, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return path


def assert_one_line_error(done: Process, *fragments: str) -> None:
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_command_line_duplicate_name_is_one_line_error(database: Path):
    first = manage(database, "create_api_key", "cli-platform")
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.split()) == 1
    again = manage(database, "create_api_key", "cli-platform")
    assert_one_line_error(again, "'cli-platform' already exists")


def test_command_line_bad_role_is_one_line_error(database: Path):
    done = manage(database, "create_api_key", "cli-admin", "--role", "admin")
    assert_one_line_error(done, "--role", "'admin'")
