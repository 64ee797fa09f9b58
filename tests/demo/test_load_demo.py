"""`manage.py load_demo`: the demo world, its keys and accounts, idempotency
and all-or-nothing writes."""

import subprocess
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, CountryRole, Role
from demo import loader as demo
from demo.checks import check_no_demo_secrets
from demo.data import ACCOUNTS, API_KEYS, AUTHORITIES, SUPERUSER, AccountSpec
from identity.jose.jwk import thumbprint
from identity.jose.key_files import load_private_key, public_jwk_of
from identity.lei import lei_is_valid
from identity.models import (
    Authority,
    AuthorityKey,
    CredentialType,
    IssuedCredential,
    KeyStatus,
    Merchant,
    MerchantStatus,
)
from identity.services.credentials import credential_issue
from identity.services.keys import key_mark_compromised
from identity.services.merchants import merchant_reinstate
from recognition.models import AgreementStatus, RecognitionAgreement, Verification
from recognition.snapshots import AgreementSnapshot

CORRIDOR = {"CN", "CL", "VN", "KZ", "HU", "AE", "PK", "RW", "KH"}
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo(*args: str) -> str:
    """The command as the tests run it: DEBUG is off in the test settings, so
    the flag that allows it without DEBUG is given."""
    out = StringIO()
    call_command("load_demo", "--allow-without-debug", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every model, historical tables and m2m through tables included."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        counts[model._meta.label] = model._default_manager.count()
    return counts


@pytest.fixture
def loaded(db) -> str:
    return load_demo()


def test_second_run_writes_no_row_and_no_history(db):
    before = row_counts()
    load_demo()
    after_first = row_counts()
    second_output = load_demo()
    assert after_first["identity.HistoricalAuthority"] > before["identity.HistoricalAuthority"]
    assert after_first["recognition.HistoricalRecognitionAgreement"] > 0
    assert row_counts() == after_first
    assert "Nothing to do" in second_output


def test_loads_china_and_the_eight_corridor_partners(loaded):
    assert set(Authority.objects.values_list("country", flat=True)) == CORRIDOR
    for authority in Authority.objects.all():
        assert authority.issuer.startswith("https://demo-")
        assert ".example/" in authority.issuer
        assert authority.keys.filter(status=KeyStatus.ACTIVE).exists(), authority.issuer
        assert 2 <= authority.merchants.count() <= 4, authority.issuer


def test_keys_mix_algorithms_and_include_a_retired_and_a_compromised_key(loaded):
    assert set(AuthorityKey.objects.values_list("alg", flat=True)) >= {"EdDSA", "ES256", "PS256", "RS256"}
    retired = AuthorityKey.objects.get(status=KeyStatus.RETIRED)
    compromised = AuthorityKey.objects.get(status=KeyStatus.COMPROMISED)
    assert retired.authority.country == "CN"
    assert compromised.authority.country == "PK"
    # The retired key signed a credential before its retirement; that one stays valid until it expires.
    signed = IssuedCredential.objects.get(key=retired)
    assert retired.not_before <= signed.issued_at < retired.retired_at < signed.expires_at
    assert IssuedCredential.objects.filter(key=compromised).exists()


def test_every_registered_key_matches_its_committed_demo_key_file(loaded):
    specs = [key for authority in AUTHORITIES for key in authority.keys]
    assert AuthorityKey.objects.count() == len(specs)
    for spec in specs:
        path = demo.demo_key_path(spec.file)
        assert path.name.startswith("DEMO-ONLY-")
        assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
        expected = public_jwk_of(load_private_key(path))
        registered = AuthorityKey.objects.get(kid=spec.kid)
        assert registered.alg == spec.alg
        assert {m: registered.public_jwk.get(m) for m in PUBLIC_MEMBERS} == {m: expected.get(m) for m in PUBLIC_MEMBERS}
        assert thumbprint(registered.public_jwk) == thumbprint(expected)
    readme = (demo.DEMO_KEYS_DIR / "README.md").read_text()
    assert "NEVER USE FOR ANYTHING REAL" in readme


def test_no_private_key_material_enters_the_database(loaded):
    for key in AuthorityKey.objects.all():
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key.public_jwk)


def test_merchants_include_valid_leis_a_suspended_and_a_revoked_one(loaded):
    leis = [lei for lei in Merchant.objects.values_list("lei", flat=True) if lei]
    assert len(leis) >= 3
    assert all(lei_is_valid(lei) for lei in leis)
    assert Merchant.objects.filter(status=MerchantStatus.SUSPENDED).count() == 1
    assert Merchant.objects.filter(status=MerchantStatus.REVOKED).count() == 1
    assert IssuedCredential.objects.values("merchant").distinct().count() >= 8


def test_agreement_mix(loaded):
    now = timezone.now()
    agreements = RecognitionAgreement.objects.select_related("authority")
    assert {AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.DRAFT} <= set(
        agreements.values_list("status", flat=True)
    )
    assert all(a.destination != a.authority.country for a in agreements)
    expired = agreements.filter(status=AgreementStatus.ACTIVE, valid_until__lt=now)
    assert expired.count() == 1
    assert not any(AgreementSnapshot.of(agreement).in_force(now) for agreement in expired)
    cn_cl = agreements.get(destination="CN", authority__country="CL")
    cl_cn = agreements.get(destination="CL", authority__country="CN")
    assert cn_cl.status == cl_cn.status == AgreementStatus.ACTIVE
    assert "2016" in cn_cl.legal_basis
    assert "Chile" in cn_cl.legal_basis
    assert agreements.filter(destination="CN", authority__country="VN", status=AgreementStatus.ACTIVE).exists()
    assert not agreements.filter(destination="VN").exists()  # one-way
    assert agreements.get(destination="HU", authority__country="CN").status == AgreementStatus.SUSPENDED
    assert agreements.get(status=AgreementStatus.DRAFT).legal_basis == ""


def test_demo_accounts_hold_their_roles_and_passwords(loaded):
    User = get_user_model()
    roles = {r.user.username: (r.role, r.country.code or "") for r in CountryRole.objects.select_related("user")}
    assert roles["demo-cn-admin"] == (Role.COUNTRY_ADMIN, "CN")
    assert roles["demo-cn-admin2"] == (Role.COUNTRY_ADMIN, "CN")
    assert roles["demo-cl-admin"] == (Role.COUNTRY_ADMIN, "CL")
    assert roles["demo-regulator"] == (Role.REGULATOR, "")
    assert User.objects.get(username="demo-admin").is_superuser
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.is_staff
        assert user.check_password(account.password)


def test_prints_the_accounts_with_passwords_and_where_to_log_in(loaded):
    assert "http://127.0.0.1:8000/admin/" in loaded
    assert "DEMO ONLY" in loaded
    for account in ACCOUNTS:
        line = next(line for line in loaded.splitlines() if account.username in line.split())
        assert account.password in line
    assert "country administrator (CN)" in loaded
    assert "regulator" in loaded


@pytest.mark.parametrize(
    ("address", "url"),
    [
        (["--port", "8765"], "http://127.0.0.1:8765/admin/"),
        (["--host", "192.0.2.10", "--port", "9000"], "http://192.0.2.10:9000/admin/"),
        (["--host", "::1", "--port", "8000"], "http://[::1]:8000/admin/"),
        (["--host", "registry.localhost"], "http://registry.localhost:8000/admin/"),
    ],
)
def test_prints_the_login_url_of_the_host_and_port_given(db, address, url):
    line = next(line for line in load_demo(*address).splitlines() if "log in at" in line)
    assert f"log in at {url};" in line


@pytest.mark.parametrize(("option", "value"), [("--port", "0"), ("--port", "http"), ("--host", "a b/c")])
def test_refuses_a_host_or_port_that_is_not_one(db, option, value):
    with pytest.raises(CommandError, match=f"argument {option}: '{value}' is not"):
        load_demo(option, value)
    assert not Authority.objects.exists()


def test_make_run_passes_its_host_and_port_to_load_demo():
    done = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8765"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "DEBUG=1 .venv/bin/python manage.py load_demo --host 0.0.0.0 --port 8765" in done.stdout.splitlines()
    assert "DEBUG=1 .venv/bin/python manage.py runserver 0.0.0.0:8765" in done.stdout.splitlines()


def test_refuses_to_run_without_debug_and_writes_nothing(db):
    before = row_counts()
    with pytest.raises(CommandError, match="DEBUG is off: load_demo creates a superuser and API keys whose secrets"):
        call_command("load_demo", stdout=StringIO())
    assert row_counts() == before


def test_runs_without_the_flag_when_debug_is_on(db, settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    assert get_user_model().objects.filter(username="demo-admin", is_superuser=True).exists()


def test_a_database_error_is_reported_as_one_error_and_leaves_nothing(db, monkeypatch):
    def locked() -> None:
        call_command("create_credential_type", "half-way", "--name", "Half way", stdout=StringIO(), stderr=StringIO())
        raise OperationalError("database is locked")

    monkeypatch.setattr("demo.management.commands.load_demo.load_demo", locked)
    with pytest.raises(CommandError, match=r"^the database could not complete the command.*\(database is locked\)$"):
        load_demo()
    assert not CredentialType.objects.exists()


# The deploy check (demo/checks.py) -----------------------------------------------


def test_deploy_check_names_the_demo_accounts_api_keys_and_signing_keys(loaded):
    errors = {error.id: error.msg for error in check_no_demo_secrets()}
    assert set(errors) == {"registry.E002", "registry.E003", "registry.E004"}
    assert "demo-admin, demo-cl-admin, demo-cn-admin, demo-cn-admin2, demo-regulator" in errors["registry.E002"]
    assert "demo-platform, demo-regulator-key" in errors["registry.E003"]
    assert "cn-samr-2025" in errors["registry.E004"] and "pk-secp-2024" not in errors["registry.E004"]  # compromised


def test_deploy_check_is_quiet_once_the_demo_secrets_are_unusable(loaded):
    get_user_model().objects.filter(username__startswith="demo-").update(is_active=False)
    ApiKey.objects.update(revoked=True)
    for key in AuthorityKey.objects.exclude(status=KeyStatus.COMPROMISED):
        key_mark_compromised(key=key)
    assert check_no_demo_secrets() == []


def test_deploy_check_is_quiet_on_a_database_without_demo_data(world):
    assert check_no_demo_secrets() == []


def test_never_undoes_a_change_made_in_the_admin(loaded):
    suspended = Merchant.objects.get(status=MerchantStatus.SUSPENDED)
    merchant_reinstate(merchant=suspended)
    load_demo()
    suspended.refresh_from_db()
    assert suspended.status == MerchantStatus.ACTIVE


def test_a_failure_leaves_nothing_written(db, monkeypatch):
    weak = AccountSpec("demo-weak", Role.REGULATOR, "", "123")
    monkeypatch.setattr(demo, "ACCOUNTS", (*ACCOUNTS, weak))
    before = row_counts()
    with pytest.raises(CommandError, match="wrote nothing"):
        load_demo()
    assert row_counts() == before


def test_demo_accounts_have_one_superuser_and_distinct_passwords():
    assert len({account.password for account in ACCOUNTS}) == len(ACCOUNTS)
    assert [a.role for a in ACCOUNTS].count(SUPERUSER) == 1


def test_lei_check_digits():
    assert demo.lei_with_check_digits("DEMO00CNSZLIANHAI0") == "DEMO00CNSZLIANHAI004"
    assert lei_is_valid(demo.lei_with_check_digits("5493001KJTIIGC8Y1R"))


def test_credentials_were_issued_within_the_key_windows(loaded):
    for credential in IssuedCredential.objects.select_related("key"):
        assert credential.key.not_before <= credential.issued_at
        assert credential.expires_at - credential.issued_at <= timedelta(days=400)


def test_demo_key_files_sign_credentials_that_verify_with_the_registered_keys(loaded):
    merchant_identity = CredentialType.objects.get(code="merchant-identity")
    for spec in [key for authority in AUTHORITIES for key in authority.keys if key.status == KeyStatus.ACTIVE]:
        registered = AuthorityKey.objects.select_related("authority").get(kid=spec.kid)
        merchant = registered.authority.merchants.filter(status=MerchantStatus.ACTIVE).first()
        issued = credential_issue(
            merchant=merchant,
            private_key=load_private_key(demo.demo_key_path(spec.file)),
            credential_type=merchant_identity,
            assurance="low",
        )
        header = jwt.get_unverified_header(issued.token)
        assert (header["alg"], header["kid"]) == (spec.alg, spec.kid)
        claims = jwt.decode(issued.token, jwt.PyJWK(registered.public_jwk).key, algorithms=[spec.alg])
        assert claims["iss"] == registered.authority.issuer


def demo_token(issuer: str, regno: str, key_file: str) -> str:
    out = StringIO()
    call_command("issue_credential", issuer, regno, "--private-key", str(demo.demo_key_path(key_file)), stdout=out)
    return out.getvalue().strip()


def printed_api_keys(output: str) -> dict[str, str]:
    """name -> key, from the table load_demo prints."""
    section = output.split("Demo API keys", 1)[1].splitlines()[2:]
    return {line.split()[0]: line.split()[2] for line in section if line.strip()}


def test_prints_the_demo_api_keys_and_the_platform_key_verifies(loaded):
    keys = printed_api_keys(loaded)
    assert keys == {spec.name: spec.key for spec in API_KEYS}
    assert set(keys) == {"demo-platform", "demo-regulator-key"}
    token = demo_token("https://demo-registro.cl.example/issuer", "76.543.210-K", "DEMO-ONLY-cl-registro-es256.pem")
    response = APIClient().post(
        "/api/v1/verifications/",
        {"token": token, "destination": "CN", "origin": "CL"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {keys['demo-platform']}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decision"] == "accepted"
    assert "2016" in body["agreement"]["legal_basis"]
    assert Verification.objects.get().client == "demo-platform"


def test_demo_api_keys_have_fixed_secrets_roles_and_only_their_hash_stored(loaded):
    for spec in API_KEYS:
        stored = ApiKey.objects.get(name=spec.name)
        assert stored.role == spec.role
        assert ApiKey.objects.get_from_key(spec.key) == stored
        assert spec.key.startswith("demo") and "DEMO" in spec.key
        for column, value in ApiKey.objects.values().get(pk=stored.pk).items():
            assert spec.secret not in str(value), column
    regulator = next(spec for spec in API_KEYS if spec.role == "regulator")
    response = APIClient().post(
        "/api/v1/verifications/",
        {"token": "x", "destination": "CN"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {regulator.key}",
    )
    assert response.status_code == 200


def test_a_demo_api_key_revoked_in_the_admin_stays_revoked(loaded):
    stored = ApiKey.objects.get(name="demo-platform")
    stored.revoked = True
    stored.save()
    load_demo()
    assert ApiKey.objects.get(name="demo-platform").revoked
