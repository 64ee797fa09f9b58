"""Services of authorities, keys, merchants and credentials (STYLE.md:
`<entity>_<action>`): every rule and every refusal, with history."""

import errno
import io
import os
import stat
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from identity.jose import key_files
from identity.jose.jwk import thumbprint
from identity.jose.key_files import load_private_key, public_jwk_of
from identity.lei import lei_is_valid
from identity.models import Authority, AuthorityKey, IssuedCredential, Merchant
from identity.services import keys as key_services
from identity.services.authorities import (
    authority_create,
    authority_reinstate,
    authority_revoke,
    authority_set_status,
    authority_suspend,
)
from identity.services.credentials import credential_issue, credential_revoke
from identity.services.keys import key_generate, key_mark_compromised, key_register, key_register_many, key_retire
from identity.services.merchants import merchant_register, merchant_reinstate, merchant_revoke, merchant_suspend
from recognition.snapshots import KeySnapshot


def test_authority_status_changes_are_recorded_with_the_acting_user(world):
    authority = authority_suspend(authority=world.cl.authority, user=world.bob)
    assert authority.status == "suspended"
    latest = Authority.history.filter(id=authority.id).latest("history_date")
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        "suspended",
        world.bob,
        "status suspended",
    )
    # Reinstating widens trust: root (the superuser) does it directly.
    assert authority_reinstate(authority=authority, user=world.root).status == "active"


def test_revoked_authority_cannot_be_reinstated(world):
    authority_revoke(authority=world.kz.authority)
    with pytest.raises(ValidationError, match="cannot go from revoked to active"):
        authority_reinstate(authority=world.kz.authority)


def test_setting_the_same_status_is_refused(world):
    with pytest.raises(ValidationError, match="already active"):
        authority_set_status(authority=world.cn.authority, status="active")


def test_authority_issuer_must_be_unique_and_an_https_url_or_did(world):
    with pytest.raises(ValidationError, match="already exists"):
        authority_create(country="CN", name="Copy", issuer=world.cn.authority.issuer)
    with pytest.raises(ValidationError, match="https URL or a DID"):
        authority_create(country="CN", name="Plain", issuer="http://insecure.test")
    assert authority_create(country="CN", name="DID", issuer="did:web:samr.test").pk


def test_authority_country_must_be_an_iso_code(db):
    with pytest.raises(ValidationError, match="country"):
        authority_create(country="XX", name="Nowhere", issuer="https://nowhere.test")
    assert not Authority.objects.exists()


def test_key_register_refuses_a_second_key_with_the_same_kid_or_the_same_key(world):
    other = public_jwk_of(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(ValidationError, match="already has a key with kid"):
        key_register(authority=world.cn.authority, jwk=other, kid=world.cn.key.kid)
    with pytest.raises(ValidationError, match="already registered"):
        key_register(authority=world.cn.authority, jwk={**world.cn.key.public_jwk, "kid": "another-name"})


def test_key_register_refusal_names_the_intake_problem(world):
    with pytest.raises(ValidationError, match="private members"):
        key_register(authority=world.cn.authority, jwk={**world.cn.key.public_jwk, "d": "AAAA"})


def test_key_register_many_registers_all_or_nothing(world):
    good = public_jwk_of(ed25519.Ed25519PrivateKey.generate())
    bad = {"kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    before = AuthorityKey.objects.count()
    with pytest.raises(ValidationError, match="key 2 of 2: .*small order"):
        key_register_many(authority=world.cn.authority, jwks={"keys": [good, bad]})
    assert AuthorityKey.objects.count() == before


def test_key_generate_writes_the_private_key_with_mode_0600_and_never_overwrites(world, tmp_path):
    path = tmp_path / "cn.pem"
    key = key_generate(authority=world.cn.authority, alg="ES256", private_key_out=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert thumbprint(public_jwk_of(load_private_key(path))) == key.kid
    before = path.read_bytes()
    with pytest.raises(ValidationError, match="refusing to overwrite"):
        key_generate(authority=world.cn.authority, alg="EdDSA", private_key_out=path)
    assert path.read_bytes() == before
    assert AuthorityKey.objects.filter(authority=world.cn.authority).count() == 2


def test_key_generate_writes_no_file_when_registration_is_refused(world, tmp_path):
    path = tmp_path / "none.pem"
    with pytest.raises(ValidationError, match="not allowed"):
        key_generate(authority=world.cn.authority, alg="HS256", private_key_out=path)
    assert not path.exists()


@pytest.mark.parametrize("failure", [OperationalError("database is locked"), RuntimeError("unexpected")])
def test_key_generate_never_removes_a_file_it_did_not_create(world, tmp_path, monkeypatch, failure):
    path = tmp_path / "operator.pem"
    path.write_text("the operator's own key")

    def fail(**kwargs):
        raise failure

    monkeypatch.setattr(key_services, "key_register", fail)
    with pytest.raises(type(failure)):
        key_generate(authority=world.cn.authority, alg="EdDSA", private_key_out=path)
    assert path.read_text() == "the operator's own key"


def test_key_generate_removes_its_half_written_file_and_registers_nothing(world, tmp_path, monkeypatch):
    path = tmp_path / "half.pem"

    class FullDisk(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    real_fdopen = os.fdopen

    def fdopen(fd, mode):
        real_fdopen(fd, mode).close()
        return FullDisk()

    monkeypatch.setattr(key_files.os, "fdopen", fdopen)
    before = AuthorityKey.objects.count()
    with pytest.raises(OSError, match="No space left"):
        key_generate(authority=world.cn.authority, alg="EdDSA", private_key_out=path)
    assert not path.exists()
    assert AuthorityKey.objects.count() == before


def test_retired_key_can_still_be_marked_compromised_but_not_the_reverse(world):
    key = key_retire(key=world.cn.key, user=world.alice)
    assert key.status == "retired" and key.retired_at is not None
    key = key_mark_compromised(key=key, user=world.alice)
    assert key.status == "compromised" and key.compromised_at is not None
    with pytest.raises(ValidationError, match="cannot go from compromised to retired"):
        key_retire(key=key)
    assert AuthorityKey.history.filter(id=key.id, history_user=world.alice).count() == 2


def test_usable_keys_exclude_compromised_ones(world):
    key_mark_compromised(key=world.cl.key)
    now, lifetime = timezone.now(), timedelta(days=400)
    assert not KeySnapshot.of(AuthorityKey.objects.get(pk=world.cl.key.pk)).usable(now, max_lifetime=lifetime)
    assert KeySnapshot.of(AuthorityKey.objects.get(pk=world.cn.key.pk)).usable(now, max_lifetime=lifetime)


def test_merchant_assurance_cannot_exceed_the_authoritys_accreditation(world):
    authority = authority_create(country="VN", name="Low", issuer="https://low.test", max_assurance="low")
    with pytest.raises(ValidationError, match="above what"):
        merchant_register(authority=authority, registration_number="1", legal_name="X", assurance="high")


def test_merchant_registration_number_is_unique_per_authority(world):
    with pytest.raises(ValidationError, match="already exists"):
        merchant_register(authority=world.cn.authority, registration_number="CN-0001", legal_name="Dup")
    other = merchant_register(authority=world.cl.authority, registration_number="CN-0001", legal_name="Ok")
    assert other.pk


@pytest.mark.parametrize("lei", ["5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55", "HWUPKR0MPOU8FGXBT394"])
def test_valid_leis_are_accepted(world, lei):
    assert lei_is_valid(lei)
    assert merchant_register(authority=world.cn.authority, registration_number=lei, legal_name="L", lei=lei)


@pytest.mark.parametrize("lei", ["5493001KJTIIGC8Y1R13", "5493001kjtiigc8y1r12", "5493001KJTIIGC8Y1R1", "ABC"])
def test_invalid_leis_are_refused(world, lei):
    with pytest.raises(ValidationError, match="not a valid LEI"):
        merchant_register(authority=world.cn.authority, registration_number="L1", legal_name="L", lei=lei)
    assert not Merchant.objects.filter(registration_number="L1").exists()


def test_merchant_suspend_reinstate_and_revoke_is_final(world):
    merchant = merchant_suspend(merchant=world.cn.merchant, user=world.alice)
    assert merchant.status == "suspended"
    merchant = merchant_reinstate(merchant=merchant, user=world.alice)
    assert merchant.status == "active"
    merchant = merchant_revoke(merchant=merchant, user=world.alice)
    with pytest.raises(ValidationError, match="cannot go from revoked to active"):
        merchant_reinstate(merchant=merchant)
    assert [h.status for h in Merchant.history.filter(id=merchant.id).order_by("history_id")] == [
        "active",
        "suspended",
        "active",
        "revoked",
    ]


def test_credential_issue_signs_the_profile_and_records_it(world):
    issued = credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity, days=30
    )
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "EdDSA", "kid": world.cl.key.kid, "typ": "merchant-credential+jwt"}
    claims = jwt.decode(issued.token, jwt.PyJWK(world.cl.key.public_jwk).key, algorithms=["EdDSA"])
    assert claims["jti"] == issued.credential.jti
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert claims["merchant"]["country"] == "CL"
    assert IssuedCredential.objects.get(jti=claims["jti"]).key == world.cl.key


def test_credential_issue_refuses_a_private_key_that_matches_no_registered_key(world):
    with pytest.raises(ValidationError, match="matches no registered key"):
        credential_issue(
            merchant=world.cl.merchant,
            private_key=ed25519.Ed25519PrivateKey.generate(),
            credential_type=world.merchant_identity,
        )
    with pytest.raises(ValidationError, match="does not match key"):
        credential_issue(
            merchant=world.cl.merchant,
            private_key=world.cn.private_key,
            credential_type=world.merchant_identity,
            kid=world.cl.key.kid,
        )
    assert not IssuedCredential.objects.exists()


def test_credential_issue_lists_every_reason_it_refuses(world):
    merchant_suspend(merchant=world.cl.merchant)
    key_retire(key=world.cl.key)
    merchant = Merchant.objects.get(pk=world.cl.merchant.pk)
    with pytest.raises(ValidationError) as refused:
        credential_issue(
            merchant=merchant,
            private_key=world.cl.private_key,
            credential_type=world.merchant_identity,
            assurance="high",
            days=401,
        )
    message = refused.value.messages[0]
    for part in ("merchant CL-0001 is suspended", "is retired", "above the merchant's", "between 1 and 400"):
        assert part in message
    assert not IssuedCredential.objects.exists()


def test_credential_issue_refuses_a_key_outside_its_window(world):
    key = AuthorityKey.objects.get(pk=world.cl.key.pk)
    AuthorityKey.objects.filter(pk=key.pk).update(not_after=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="outside its validity window"):
        credential_issue(
            merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
        )


def test_credential_revoke_is_recorded_once(world):
    issued = credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
    )
    revoked = credential_revoke(credential=issued.credential, reason="fraud report", user=world.bob)
    assert (revoked.status, revoked.reason) == ("revoked", "fraud report")
    assert revoked.history.latest("history_date").history_user == world.bob
    with pytest.raises(ValidationError, match="already revoked"):
        credential_revoke(credential=revoked)
