"""The accounts management commands (DESIGN §7).

`manage.py create_api_key NAME [--role platform|regulator]`: the key is
printed once; the database holds only its hash; bad input is one line on
stderr (the key at work through the API: tests/api/test_api_keys.py).
`create_country_admin` and `create_regulator`: the users who administer
countries or audit them."""

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError

from accounts.models import ApiKey, CountryRole, Role
from tests.support.actors import PASSWORD
from tests.support.cli import Process, call, create_key, manage


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


# create_country_admin / create_regulator ----------------------------------


@pytest.mark.django_db
def test_create_country_admin_prints_a_generated_password_that_works() -> None:
    out = call("create_country_admin", "carla", "--country", "cl")

    user = get_user_model().objects.get(username="carla")
    assert out.lines == [out.stdout.strip()]
    assert user.check_password(out.stdout.strip())
    assert user.is_staff and not user.is_superuser
    assert (user.country_role.role, user.country_role.country.code) == (Role.COUNTRY_ADMIN, "CL")


@pytest.mark.django_db
def test_create_country_admin_never_prints_a_given_password() -> None:
    out = call("create_country_admin", "carla", "--country", "CL", "--password", PASSWORD)

    assert out.stdout == ""
    assert PASSWORD not in out.stderr
    assert get_user_model().objects.get(username="carla").check_password(PASSWORD)


@pytest.mark.django_db
def test_create_country_admin_refuses_unknown_country() -> None:
    with pytest.raises(CommandError, match="--country: 'XX' is not an ISO 3166-1 alpha-2 country code"):
        call("create_country_admin", "carla", "--country", "XX")

    assert not get_user_model().objects.filter(username="carla").exists()


def test_create_country_admin_refuses_duplicate_username(world) -> None:
    with pytest.raises(CommandError, match="user 'alice' already exists"):
        call("create_country_admin", "alice", "--country", "CL")

    assert CountryRole.objects.get(user__username="alice").country.code == "CN"


@pytest.mark.django_db
def test_create_country_admin_refuses_a_weak_password_and_creates_nobody() -> None:
    with pytest.raises(CommandError, match="This password is too short"):
        call("create_country_admin", "carla", "--country", "CL", "--password", "short")

    assert not get_user_model().objects.filter(username="carla").exists()


@pytest.mark.django_db
def test_create_regulator_prints_a_generated_password() -> None:
    out = call("create_regulator", "rosa")

    user = get_user_model().objects.get(username="rosa")
    assert user.check_password(out.stdout.strip())
    assert (user.country_role.role, user.country_role.country) == (Role.REGULATOR, "")


@pytest.mark.django_db
def test_create_regulator_with_a_given_password_prints_nothing() -> None:
    out = call("create_regulator", "rosa", "--password", PASSWORD)

    assert out.stdout == ""
    assert get_user_model().objects.get(username="rosa").check_password(PASSWORD)


def test_create_regulator_refuses_duplicate_username(world) -> None:
    with pytest.raises(CommandError, match="user 'rita' already exists"):
        call("create_regulator", "rita")


@pytest.mark.django_db
def test_create_regulator_refuses_an_invalid_username() -> None:
    with pytest.raises(CommandError, match="username: "):
        call("create_regulator", "no spaces allowed", "--password", PASSWORD)
