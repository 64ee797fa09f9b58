"""issue_credential and revoke_credential (DESIGN §4, §7)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from identity.jose.key_files import write_private_key
from identity.models import AuthorityKey, CredentialStatus, IssuedCredential
from identity.services.credentials import credential_issue
from tests.support.cli import call

VALID_LEI = "5493001KJTIIGC8Y1R12"


def _key_file(private_key: object, directory: Path, name: str = "key.pem") -> Path:
    path = directory / name
    write_private_key(private_key, path)
    return path


def _decode(token: str, key: AuthorityKey) -> dict:
    """Plain PyJWT with the registered public JWK, nothing of the registry."""
    return jwt.decode(token, jwt.PyJWK(key.public_jwk), algorithms=[key.alg], options={"verify_aud": False})


def test_issue_credential_writes_the_design_profile_and_records_it(world, tmp_path) -> None:
    cl = world.cl
    call("register_merchant", cl.authority.issuer, "CL-42", "--legal-name", "Vinos del Sur SpA", "--lei", VALID_LEI)
    before = int(time.time())

    out = call(
        "issue_credential", cl.authority.issuer, "CL-42", "--private-key", _key_file(cl.private_key, tmp_path),
        "--assurance", "low", "--days", "30",
    )  # fmt: skip

    after = int(time.time())
    assert len(out.lines) == 1
    token = out.lines[0]
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "merchant-credential+jwt", "kid": cl.key.kid}
    claims = _decode(token, cl.key)
    credential = IssuedCredential.objects.get()
    assert set(claims) == {
        "iss", "sub", "jti", "iat", "nbf", "exp", "credential_type", "assurance", "merchant", "status",
    }  # fmt: skip
    assert claims["status"] == {
        "status_list": {
            "idx": credential.status_index,
            "uri": f"https://registry.example/api/v1/status-lists/{credential.status_list.number}/",
        }
    }
    assert claims["iss"] == cl.authority.issuer
    assert claims["sub"] == "CL-42"
    assert claims["jti"] == credential.jti
    for name in ("iat", "nbf", "exp"):
        assert type(claims[name]) is int
    assert before <= claims["iat"] <= after
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert claims["credential_type"] == "merchant-identity"
    assert claims["assurance"] == "low"
    assert claims["merchant"] == {
        "legal_name": "Vinos del Sur SpA",
        "registration_number": claims["sub"],
        "country": "CL",
        "lei": VALID_LEI,
    }
    assert credential.merchant.registration_number == "CL-42"
    assert (credential.key, credential.credential_type, credential.assurance) == (
        cl.key,
        world.merchant_identity,
        "low",
    )
    assert credential.issued_at == datetime.fromtimestamp(claims["iat"], tz=UTC)
    assert credential.expires_at == datetime.fromtimestamp(claims["exp"], tz=UTC)
    assert credential.status == CredentialStatus.VALID


def test_issue_credential_defaults_to_the_merchants_assurance_and_365_days_without_lei(world, tmp_path) -> None:
    out = call(
        "issue_credential",
        world.cl.authority.issuer,
        "CL-0001",
        "--private-key",
        _key_file(world.cl.private_key, tmp_path),
    )

    claims = _decode(out.stdout.strip(), world.cl.key)
    assert claims["assurance"] == "substantial"
    assert claims["exp"] - claims["iat"] == 365 * 86400
    assert "lei" not in claims["merchant"]


@pytest.mark.parametrize("alg", ["PS256", "ES256"])
def test_issue_credential_with_a_key_made_by_create_authority_key(world, tmp_path, alg) -> None:
    path = tmp_path / f"{alg}.pem"
    kid = call(
        "create_authority_key", world.kz.authority.issuer, "--alg", alg, "--private-key-out", path
    ).stdout.strip()
    key = AuthorityKey.objects.get(authority=world.kz.authority, kid=kid)

    token = call(
        "issue_credential", world.kz.authority.issuer, "KZ-0001", "--private-key", path, f"--kid={kid}"
    ).stdout.strip()

    assert jwt.get_unverified_header(token) == {"alg": alg, "typ": "merchant-credential+jwt", "kid": kid}
    assert _decode(token, key)["jti"] == IssuedCredential.objects.get(key=key).jti


def test_issue_credential_in_the_second_the_key_was_created(world, tmp_path) -> None:
    path = tmp_path / "fresh.pem"
    if time.time() % 1 > 0.5:  # start early in a second so both commands run within it
        time.sleep(1 - time.time() % 1)
    call("create_authority_key", world.kz.authority.issuer, "--alg", "EdDSA", "--private-key-out", path)

    assert call("issue_credential", world.kz.authority.issuer, "KZ-0001", "--private-key", path).stdout.count(".") == 2


def test_issue_credential_refuses_an_unreadable_key_file(world, tmp_path) -> None:
    with pytest.raises(CommandError, match=r"cannot read private key .*absent.pem: No such file or directory"):
        call("issue_credential", world.cl.authority.issuer, "CL-0001", "--private-key", tmp_path / "absent.pem")


def test_issue_credential_refuses_a_file_that_holds_no_private_key(world, tmp_path) -> None:
    path = tmp_path / "garbage.pem"
    path.write_text("not a key")

    with pytest.raises(CommandError, match="holds no readable unencrypted private key"):
        call("issue_credential", world.cl.authority.issuer, "CL-0001", "--private-key", path)


def test_issue_credential_refuses_another_authoritys_key(world, tmp_path) -> None:
    with pytest.raises(CommandError, match="the private key matches no registered key of https://registro-cl.test"):
        call(
            "issue_credential",
            world.cl.authority.issuer,
            "CL-0001",
            "--private-key",
            _key_file(world.kz.private_key, tmp_path),
        )

    assert not IssuedCredential.objects.exists()


def test_issue_credential_refuses_unknown_merchant_issuer_and_type(world, tmp_path) -> None:
    key_file = _key_file(world.cl.private_key, tmp_path)
    issuer = world.cl.authority.issuer

    with pytest.raises(CommandError, match="has no merchant 'CL-9999'"):
        call("issue_credential", issuer, "CL-9999", "--private-key", key_file)
    with pytest.raises(CommandError, match="no authority has issuer 'https://nobody.test'"):
        call("issue_credential", "https://nobody.test", "CL-0001", "--private-key", key_file)
    with pytest.raises(CommandError, match="no credential type 'passport'"):
        call("issue_credential", issuer, "CL-0001", "--private-key", key_file, "--type", "passport")


@pytest.mark.parametrize("days", ["0", "401", "-3"])
def test_issue_credential_refuses_days_outside_the_maximum_lifetime(world, tmp_path, days) -> None:
    with pytest.raises(CommandError, match=f"days must be between 1 and 400, not {days}"):
        call(
            "issue_credential",
            world.cl.authority.issuer,
            "CL-0001",
            "--private-key",
            _key_file(world.cl.private_key, tmp_path),
            "--days",
            days,
        )

    assert not IssuedCredential.objects.exists()


def test_issue_credential_refuses_days_that_are_not_a_number(world, tmp_path) -> None:
    with pytest.raises(CommandError, match="argument --days: invalid int value: 'a year'"):
        call(
            "issue_credential",
            world.cl.authority.issuer,
            "CL-0001",
            "--private-key",
            tmp_path / "k",
            "--days",
            "a year",
        )


def test_issue_credential_refuses_assurance_above_the_merchants(world, tmp_path) -> None:
    with pytest.raises(CommandError, match=r"assurance high is above the merchant's \(substantial\)"):
        call(
            "issue_credential",
            world.cl.authority.issuer,
            "CL-0001",
            "--private-key",
            _key_file(world.cl.private_key, tmp_path),
            "--assurance",
            "high",
        )


def test_issue_credential_refuses_a_retired_key(world, tmp_path) -> None:
    call("retire_key", "--", world.cl.authority.issuer, world.cl.key.kid)

    with pytest.raises(CommandError, match=f"key {world.cl.key.kid} is retired"):
        call(
            "issue_credential",
            world.cl.authority.issuer,
            "CL-0001",
            "--private-key",
            _key_file(world.cl.private_key, tmp_path),
        )


# revoke_credential --------------------------------------------------------


def _issued(world) -> IssuedCredential:
    return credential_issue(
        merchant=world.cl.merchant,
        private_key=world.cl.private_key,
        credential_type=world.merchant_identity,
        now=timezone.now() - timedelta(minutes=1),
    ).credential


def test_revoke_credential_records_the_reason(world) -> None:
    credential = _issued(world)

    out = call("revoke_credential", world.cl.authority.issuer, credential.jti, "--reason", "merchant closed")

    credential.refresh_from_db()
    assert (credential.status, credential.reason) == (CredentialStatus.REVOKED, "merchant closed")
    assert credential.revoked_at is not None
    assert out.stdout == ""


def test_revoke_credential_refuses_unknown_jti_and_another_authoritys_jti(world) -> None:
    credential = _issued(world)

    with pytest.raises(CommandError, match="has issued no credential 'nope' through the registry"):
        call("revoke_credential", world.cl.authority.issuer, "nope")
    with pytest.raises(CommandError, match=f"has issued no credential '{credential.jti}'"):
        call("revoke_credential", world.kz.authority.issuer, credential.jti)

    credential.refresh_from_db()
    assert credential.status == CredentialStatus.VALID


def test_revoke_credential_refuses_to_revoke_twice(world) -> None:
    credential = _issued(world)
    call("revoke_credential", world.cl.authority.issuer, credential.jti)

    with pytest.raises(CommandError, match="is already revoked"):
        call("revoke_credential", world.cl.authority.issuer, credential.jti)


# suspend_credential and reinstate_credential ------------------------------


def test_suspend_then_reinstate_credential_keep_their_reasons(world) -> None:
    credential = _issued(world)

    out = call("suspend_credential", world.cl.authority.issuer, credential.jti, "--reason", "under review")
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.SUSPENDED
    assert out.stdout == ""
    call("reinstate_credential", world.cl.authority.issuer, credential.jti, "--reason", "cleared")
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.VALID
    reasons = list(credential.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[-2:] == ["status suspended: under review", "status valid: cleared"]


def test_suspend_and_reinstate_refuse_what_cannot_move(world) -> None:
    credential = _issued(world)
    with pytest.raises(CommandError, match="is already valid"):
        call("reinstate_credential", world.cl.authority.issuer, credential.jti)
    with pytest.raises(CommandError, match=f"has issued no credential '{credential.jti}'"):
        call("suspend_credential", world.kz.authority.issuer, credential.jti)
    call("revoke_credential", world.cl.authority.issuer, credential.jti)
    with pytest.raises(CommandError, match="cannot go from revoked to suspended"):
        call("suspend_credential", world.cl.authority.issuer, credential.jti)
    with pytest.raises(CommandError, match="cannot go from revoked to valid"):
        call("reinstate_credential", world.cl.authority.issuer, credential.jti)
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.REVOKED
