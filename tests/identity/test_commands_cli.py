"""What a script calling `manage.py` sees (DESIGN §7): the documented value
alone on stdout, and on bad input exit status non-zero with exactly one line
`error: ...` on stderr, no traceback. Real processes on a migrated SQLite
file; kept to a handful because each one starts Django."""

import json
from pathlib import Path

import pytest

from tests.support.cli import Process, manage
from tests.support.private_key_files import refused_key_files

ISSUER = "https://cli.test/issuer"
MERCHANT = "76.000.001-1"
REFUSED_KEY_FILES = refused_key_files()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "registry.sqlite3"
    migrated = manage(path, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    created = manage(path, "create_authority", "--country", "cl", "--name", "CLI Registry", "--issuer", ISSUER)
    assert (created.returncode, created.stdout) == (0, ""), created.stderr
    registered = manage(path, "register_merchant", ISSUER, MERCHANT, "--legal-name", "CLI Trading SpA")
    assert registered.returncode == 0, registered.stderr
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


def test_create_authority_key_prints_only_the_kid(database: Path, tmp_path: Path) -> None:
    done = manage(database, "create_authority_key", ISSUER, "--alg", "EdDSA", "--private-key-out", tmp_path / "k.pem")

    assert done.returncode == 0, done.stderr
    kid = done.stdout.strip()
    assert done.stdout == kid + "\n"
    assert len(kid) == 43  # a base64url SHA-256 thumbprint
    assert (tmp_path / "k.pem").exists()


def test_unknown_country_code_is_one_line_naming_the_code(database: Path) -> None:
    done = manage(database, "create_authority", "--country", "ZZ", "--name", "Z", "--issuer", "https://z.test")

    assert_one_line_error(done, "--country", "'ZZ'")


def test_a_refusal_of_the_service_is_one_line(database: Path) -> None:
    done = manage(database, "create_authority", "--country", "CL", "--name", "Again", "--issuer", ISSUER)

    assert_one_line_error(done, "already exists")


def test_a_missing_required_option_is_one_line_without_usage(database: Path) -> None:
    done = manage(database, "issue_credential", ISSUER, "CL-1")

    assert_one_line_error(done, "--private-key")


def test_a_malformed_jwks_file_is_one_line(database: Path, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))

    done = manage(database, "import_jwks", ISSUER, path)

    assert_one_line_error(done, "key 1 of 1", "private members")


@pytest.mark.parametrize("case", REFUSED_KEY_FILES)
def test_an_unusable_private_key_file_is_one_line_that_never_quotes_the_key(
    database: Path, tmp_path: Path, case: str
) -> None:
    key_file = REFUSED_KEY_FILES[case]
    path = tmp_path / "key.json"
    path.write_text(key_file.content)

    done = manage(database, "issue_credential", ISSUER, MERCHANT, "--private-key", path)

    assert_one_line_error(done, key_file.message)
    assert key_file.secret not in done.stdout + done.stderr


def test_a_private_key_file_that_never_ends_is_read_only_up_to_the_cap(database: Path) -> None:
    done = manage(database, "issue_credential", ISSUER, MERCHANT, "--private-key", "/dev/zero")

    assert_one_line_error(done, "/dev/zero is larger than 1048576 bytes")


def test_a_database_that_is_not_migrated_is_one_line(tmp_path: Path) -> None:
    done = manage(tmp_path / "empty.sqlite3", "create_credential_type", "tax-id", "--name", "Tax id")

    assert_one_line_error(done, "the database could not complete the command", "no such table")


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    done = manage(tmp_path / "no-such-directory" / "db.sqlite3", "create_credential_type", "tax-id", "--name", "T")

    assert_one_line_error(done, "the database could not complete the command", "unable to open database file")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (json.dumps({"keys": [{"kty": "EC", "crv": ["P-256"], "x": "AAAA", "y": "AAAA"}]}), "'crv' must be a string"),
        ('{"keys": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
    ids=["crv array", "deep nesting"],
)
def test_a_jwks_file_that_once_raised_is_one_line(database: Path, tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content)

    done = manage(database, "import_jwks", ISSUER, path)

    assert_one_line_error(done, fragment)


def test_an_unknown_as_user_is_one_line(database: Path) -> None:
    done = manage(database, "set_authority_status", ISSUER, "suspended", "--as", "nobody", "--reason", "audit")

    assert_one_line_error(done, "--as", "'nobody'")


def test_deciding_a_proposal_without_as_is_one_line(database: Path) -> None:
    done = manage(database, "proposals", "--approve", "1")

    assert_one_line_error(done, "--approve needs --as USER")
