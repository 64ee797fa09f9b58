"""The identity management commands (DESIGN §7): authorities, credential
types, keys, merchants and their statuses. Issuing and revoking credentials
are in test_credential_commands.py; the real-process behaviour (exit status,
one-line error) in test_commands_cli.py."""

import json
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.core.management.base import CommandError
from django.db import OperationalError

from identity.jose.jwk import thumbprint
from identity.jose.key_files import load_private_key, public_jwk_of
from identity.models import Authority, AuthorityKey, CredentialType, KeyStatus, Merchant
from identity.services import keys as key_services
from identity.services.authorities import authority_create
from tests.support.cli import call

VALID_LEI = "5493001KJTIIGC8Y1R12"


# create_authority ---------------------------------------------------------


@pytest.mark.django_db
def test_create_authority_upper_cases_the_country_and_prints_nothing_on_stdout() -> None:
    out = call("create_authority", "--country", "cl", "--name", "Registro", "--issuer", "https://reg.cl/iss")

    authority = Authority.objects.get(issuer="https://reg.cl/iss")
    assert (authority.country.code, authority.name, authority.max_assurance) == ("CL", "Registro", "high")
    assert out.stdout == ""
    assert authority.history.count() == 1


@pytest.mark.django_db
def test_create_authority_takes_max_assurance() -> None:
    call("create_authority", "--country", "KZ", "--name", "E", "--issuer", "did:web:e.kz", "--max-assurance", "low")

    assert Authority.objects.get(issuer="did:web:e.kz").max_assurance == "low"


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["XX", "zz", "CHN", "1"])
def test_create_authority_refuses_unknown_country_code_naming_it(code: str) -> None:
    with pytest.raises(CommandError, match=rf"--country: '{code}' is not an ISO 3166-1 alpha-2 country code"):
        call("create_authority", "--country", code, "--name", "A", "--issuer", "https://a.test")

    assert not Authority.objects.exists()


def test_create_authority_refuses_duplicate_issuer(world) -> None:
    with pytest.raises(CommandError, match="issuer: Authority with this Issuer already exists"):
        call("create_authority", "--country", "CL", "--name", "Again", "--issuer", world.cl.authority.issuer)

    assert Authority.objects.filter(issuer=world.cl.authority.issuer).count() == 1


@pytest.mark.django_db
def test_create_authority_refuses_an_issuer_that_is_neither_https_nor_did() -> None:
    with pytest.raises(CommandError, match="issuer: An issuer is an https URL or a DID"):
        call("create_authority", "--country", "CL", "--name", "A", "--issuer", "http://plain.test")


@pytest.mark.django_db
def test_create_authority_refuses_unknown_assurance_level() -> None:
    with pytest.raises(CommandError, match="--max-assurance: 'total' is not a level of assurance"):
        call(
            "create_authority",
            "--country",
            "CL",
            "--name",
            "A",
            "--issuer",
            "https://a.test",
            "--max-assurance",
            "total",
        )


# Any command, when the database fails -------------------------------------


def test_a_database_error_is_one_line_naming_the_database_and_its_reason(world, monkeypatch) -> None:
    def locked(**kwargs: object) -> None:
        authority_create(country="CL", name="Half-way", issuer="https://half-way.test")
        raise OperationalError("database is locked\nmore detail from the driver")

    monkeypatch.setattr("identity.management.commands.create_authority.authority_create", locked)

    with pytest.raises(CommandError) as refused:
        call("create_authority", "--country", "CL", "--name", "X", "--issuer", "https://x.test")

    assert str(refused.value) == (
        "the database could not complete the command; nothing was written (database is locked)"
    )
    assert not Authority.objects.filter(issuer="https://half-way.test").exists()


# create_credential_type ---------------------------------------------------


@pytest.mark.django_db
def test_create_credential_type() -> None:
    out = call("create_credential_type", "tax-id", "--name", "Tax id", "--description", "Registered for VAT")

    assert CredentialType.objects.filter(code="tax-id", name="Tax id", description="Registered for VAT").exists()
    assert out.stdout == ""


def test_create_credential_type_refuses_duplicate_code(world) -> None:
    with pytest.raises(CommandError, match="code: Credential type with this Code already exists"):
        call("create_credential_type", "merchant-identity", "--name", "Again")


@pytest.mark.django_db
def test_create_credential_type_refuses_a_code_that_is_not_a_slug() -> None:
    with pytest.raises(CommandError, match="code: "):
        call("create_credential_type", "not a slug", "--name", "x")

    assert not CredentialType.objects.exists()


# create_authority_key -----------------------------------------------------


def test_create_authority_key_writes_a_0600_file_and_prints_only_the_kid(world, tmp_path) -> None:
    path = tmp_path / "cl.pem"

    out = call("create_authority_key", world.cl.authority.issuer, "--alg", "ES256", "--private-key-out", path)

    key = AuthorityKey.objects.get(authority=world.cl.authority, kid=out.stdout.strip())
    assert out.lines == [key.kid]
    assert (key.alg, key.status) == ("ES256", KeyStatus.ACTIVE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    private_key = load_private_key(path)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert public_jwk_of(private_key)["x"] == key.public_jwk["x"]
    assert "d" not in key.public_jwk


def test_create_authority_key_refuses_to_overwrite_an_existing_file(world, tmp_path) -> None:
    path = tmp_path / "taken.pem"
    path.write_text("keep me")
    keys_before = AuthorityKey.objects.count()

    with pytest.raises(CommandError, match="already exists; refusing to overwrite"):
        call("create_authority_key", world.cl.authority.issuer, "--alg", "EdDSA", "--private-key-out", path)

    assert path.read_text() == "keep me"
    assert AuthorityKey.objects.count() == keys_before


def test_create_authority_key_on_a_locked_database_leaves_an_existing_file_alone(world, tmp_path, monkeypatch) -> None:
    path = tmp_path / "taken.pem"
    path.write_text("keep me")

    def locked(**kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(key_services, "key_register", locked)
    with pytest.raises(CommandError, match=r"the database could not complete the command.*\(database is locked\)"):
        call("create_authority_key", world.cl.authority.issuer, "--alg", "EdDSA", "--private-key-out", path)

    assert path.read_text() == "keep me"


def test_create_authority_key_refuses_unknown_issuer_and_writes_no_file(world, tmp_path) -> None:
    path = tmp_path / "k.pem"

    with pytest.raises(CommandError, match="no authority has issuer 'https://nobody.test'"):
        call("create_authority_key", "https://nobody.test", "--alg", "EdDSA", "--private-key-out", path)

    assert not path.exists()


def test_create_authority_key_refuses_an_alg_outside_the_allow_list(world, tmp_path) -> None:
    with pytest.raises(CommandError, match="--alg: invalid choice: 'HS256'"):
        call("create_authority_key", world.cl.authority.issuer, "--alg", "HS256", "--private-key-out", tmp_path / "k")


# import_jwks --------------------------------------------------------------


def _public_jwk() -> dict[str, str]:
    return public_jwk_of(ed25519.Ed25519PrivateKey.generate())


def test_import_jwks_registers_every_key_and_prints_the_kids(world, tmp_path) -> None:
    first, second = _public_jwk(), {**_public_jwk(), "kid": "cl-2026"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [first, second]}))

    out = call("import_jwks", world.cl.authority.issuer, path)

    assert out.lines == [thumbprint(first), "cl-2026"]
    registered = AuthorityKey.objects.filter(authority=world.cl.authority, kid__in=out.lines)
    assert registered.count() == 2


EC_JWK = {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}


@pytest.mark.parametrize(
    ("second", "refusal"),
    [
        ({"d": "c2VjcmV0"}, r"the JWK carries private members \(d\)"),
        # An array where a string belongs once raised TypeError (unhashable type).
        *[
            ({**EC_JWK, member: ["P-256"]}, rf"JWK member '{member}' must be a string, not an array")
            for member in ("crv", "kty", "x", "kid")
        ],
    ],
)
def test_import_jwks_registers_none_when_the_second_key_is_refused(world, tmp_path, second, refusal) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_public_jwk(), {**_public_jwk(), **second}]}))
    keys_before = AuthorityKey.objects.count()

    with pytest.raises(CommandError, match=f"key 2 of 2: {refusal}"):
        call("import_jwks", world.cl.authority.issuer, path)

    assert AuthorityKey.objects.count() == keys_before


def test_import_jwks_refuses_a_file_that_is_not_json(world, tmp_path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text("-----BEGIN PUBLIC KEY-----")

    with pytest.raises(CommandError, match=r"jwks.json is not valid JSON \(Expecting value at line 1 column 1\)"):
        call("import_jwks", world.cl.authority.issuer, path)


@pytest.mark.parametrize("content", [{"issuer": "x"}, {"keys": []}, ["not", "an", "object"]])
def test_import_jwks_refuses_json_without_keys(world, tmp_path, content) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(content))
    keys_before = AuthorityKey.objects.count()

    with pytest.raises(CommandError, match=r"expected a JWK or a JWKS|'keys' must be a non-empty list"):
        call("import_jwks", world.cl.authority.issuer, path)

    assert AuthorityKey.objects.count() == keys_before


def test_import_jwks_refuses_json_nested_too_deeply(world, tmp_path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text('{"keys": ' + "[" * 100_000 + "]" * 100_000 + "}")

    with pytest.raises(CommandError, match=r"jwks.json is not valid JSON \(nested too deeply\)"):
        call("import_jwks", world.cl.authority.issuer, path)


def test_import_jwks_refuses_an_unreadable_file(world, tmp_path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing.json: No such file or directory"):
        call("import_jwks", world.cl.authority.issuer, tmp_path / "missing.json")


def test_import_jwks_refuses_unknown_issuer(world, tmp_path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_public_jwk()]}))

    with pytest.raises(CommandError, match="no authority has issuer 'https://nobody.test'"):
        call("import_jwks", "https://nobody.test", path)


# register_merchant --------------------------------------------------------


def test_register_merchant_with_lei(world) -> None:
    out = call(
        "register_merchant", world.cl.authority.issuer, "CL-77", "--legal-name", "Vinos SpA", "--lei", VALID_LEI.lower()
    )

    merchant = Merchant.objects.get(authority=world.cl.authority, registration_number="CL-77")
    assert (merchant.legal_name, merchant.lei, merchant.assurance) == ("Vinos SpA", VALID_LEI, "substantial")
    assert out.stdout == ""


def test_register_merchant_refuses_invalid_lei(world) -> None:
    with pytest.raises(CommandError, match="lei: 5493001KJTIIGC8Y1R13 is not a valid LEI"):
        call(
            "register_merchant", world.cl.authority.issuer, "CL-77", "--legal-name", "V", "--lei", VALID_LEI[:-1] + "3"
        )

    assert not Merchant.objects.filter(registration_number="CL-77").exists()


def test_register_merchant_refuses_duplicate_registration_number(world) -> None:
    with pytest.raises(CommandError, match="already exists"):
        call("register_merchant", world.cl.authority.issuer, "CL-0001", "--legal-name", "Twin")

    assert Merchant.objects.filter(registration_number="CL-0001").count() == 1


def test_register_merchant_refuses_unknown_issuer(world) -> None:
    with pytest.raises(CommandError, match="no authority has issuer 'https://nobody.test'"):
        call("register_merchant", "https://nobody.test", "X-1", "--legal-name", "X")


def test_register_merchant_refuses_assurance_above_the_authoritys_accreditation(world) -> None:
    call("create_authority", "--country", "PE", "--name", "Low", "--issuer", "https://low.pe", "--max-assurance", "low")

    with pytest.raises(CommandError, match="assurance substantial is above what https://low.pe is accredited for"):
        call("register_merchant", "https://low.pe", "PE-1", "--legal-name", "P")


# Statuses -----------------------------------------------------------------


def test_set_authority_status_suspends_and_reinstates(world) -> None:
    issuer = world.kz.authority.issuer

    call("set_authority_status", issuer, "suspended")
    assert Authority.objects.get(issuer=issuer).status == "suspended"
    call("set_authority_status", issuer, "active")

    assert Authority.objects.get(issuer=issuer).status == "active"
    assert [h.status for h in world.kz.authority.history.order_by("history_id")] == ["active", "suspended", "active"]


def test_set_authority_status_refuses_to_undo_a_revocation(world) -> None:
    call("set_authority_status", world.kz.authority.issuer, "revoked")

    with pytest.raises(CommandError, match="cannot go from revoked to active"):
        call("set_authority_status", world.kz.authority.issuer, "active")


def test_set_authority_status_refuses_unknown_status(world) -> None:
    with pytest.raises(CommandError, match="invalid choice: 'paused'"):
        call("set_authority_status", world.kz.authority.issuer, "paused")


def test_retire_key(world) -> None:
    call("retire_key", "--", world.cl.authority.issuer, world.cl.key.kid)

    key = AuthorityKey.objects.get(pk=world.cl.key.pk)
    assert key.status == KeyStatus.RETIRED
    assert key.retired_at is not None


def test_retire_key_takes_a_kid_that_begins_with_a_dash_after_the_separator(world, tmp_path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**_public_jwk(), "kid": "-2026"}]}))
    call("import_jwks", world.cl.authority.issuer, path)

    call("retire_key", "--", world.cl.authority.issuer, "-2026")

    assert AuthorityKey.objects.get(authority=world.cl.authority, kid="-2026").status == KeyStatus.RETIRED


def test_retire_key_refuses_unknown_kid(world) -> None:
    with pytest.raises(CommandError, match=r"authority https://registro-cl.test/issuer has no key with kid 'nope'"):
        call("retire_key", "--", world.cl.authority.issuer, "nope")


def test_retire_key_refuses_a_kid_of_another_authority(world) -> None:
    with pytest.raises(CommandError, match="has no key with kid"):
        call("retire_key", "--", world.cl.authority.issuer, world.kz.key.kid)

    assert AuthorityKey.objects.get(pk=world.kz.key.pk).status == KeyStatus.ACTIVE


def test_compromise_key_also_after_retirement_but_only_once(world) -> None:
    call("retire_key", "--", world.cl.authority.issuer, world.cl.key.kid)
    call("compromise_key", "--", world.cl.authority.issuer, world.cl.key.kid)

    key = AuthorityKey.objects.get(pk=world.cl.key.pk)
    assert key.status == KeyStatus.COMPROMISED
    assert key.compromised_at is not None
    with pytest.raises(CommandError, match="is already compromised"):
        call("compromise_key", "--", world.cl.authority.issuer, world.cl.key.kid)


def test_set_merchant_status(world) -> None:
    call("set_merchant_status", world.cl.authority.issuer, "CL-0001", "suspended")

    assert Merchant.objects.get(pk=world.cl.merchant.pk).status == "suspended"


def test_set_merchant_status_refuses_unknown_merchant(world) -> None:
    with pytest.raises(CommandError, match="https://registro-cl.test/issuer has no merchant 'CN-0001'"):
        call("set_merchant_status", world.cl.authority.issuer, "CN-0001", "suspended")


def test_set_merchant_status_refuses_the_status_it_already_has(world) -> None:
    with pytest.raises(CommandError, match="merchant CL-0001 is already active"):
        call("set_merchant_status", world.cl.authority.issuer, "CL-0001", "active")
