"""A database made before the accounts app existed (API keys and country
roles were the recognition app's) migrates forward with every row kept: the
models moved in Django's state only, their tables and rows stayed, and the
content types followed them (README, Layout). The rows are compared right
after the move; the transparency log's migration after it (recognition 0010)
changes the decisions' table by design, and has its own tests
(tests/recognition/log/test_migration.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework_api_key.crypto import KeyGenerator

from accounts.models import ApiKey, CountryRole, Role
from accounts.scope import scope_of
from recognition.models import LogEntry, Verification

OLD_HEAD = [("recognition", "0008_audit_filter_indexes"), ("identity", "0001_initial_identity")]
AFTER_THE_MOVE = [
    ("accounts", "0001_initial_moved_from_recognition"),
    ("recognition", "0009_api_keys_and_roles_moved_to_accounts"),
]
WHEN = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def new_head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_head() -> list[tuple[str, str]]:
    """Every other app as it is now; recognition before the move, identity
    before the log's credential type history."""
    return [*OLD_HEAD, *(node for node in new_head() if node[0] not in ("accounts", "recognition", "identity"))]


def rows_of_every_table() -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        tables = [name for name in connection.introspection.table_names(cursor) if name != "django_migrations"]
        found = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the database itself)
            found[table] = sorted(cursor.fetchall(), key=repr)
    return found


def fill_the_old_layout(apps) -> str:
    """Rows in every table a registry of the old layout had; returns an API
    key's secret."""
    User = apps.get_model("auth", "User")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("apikey", "countryrole"):
        ContentType.objects.get_or_create(app_label="recognition", model=model)
    admin = User.objects.create(username="cn-admin", is_staff=True, password="!")
    regulator = User.objects.create(username="rita", is_staff=True, password="!")
    apps.get_model("recognition", "CountryRole").objects.create(user=admin, role="country_admin", country="CN")
    apps.get_model("recognition", "CountryRole").objects.create(user=regulator, role="regulator", country="")
    secret, prefix, hashed = KeyGenerator().generate()
    apps.get_model("recognition", "ApiKey").objects.create(
        id=f"{prefix}.{hashed}", prefix=prefix, hashed_key=hashed, name="platform-1", role="platform"
    )
    authority = apps.get_model("identity", "Authority").objects.create(
        country="CL", name="Registro", issuer="https://registro.test/issuer", status="active", max_assurance="high"
    )
    key = apps.get_model("identity", "AuthorityKey").objects.create(
        authority=authority,
        kid="cl-1",
        alg="EdDSA",
        public_jwk={"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        status="active",
        not_before=WHEN,
    )
    merchant = apps.get_model("identity", "Merchant").objects.create(
        authority=authority, registration_number="CL-1", legal_name="Andes SpA", status="active", assurance="high"
    )
    kind = apps.get_model("identity", "CredentialType").objects.create(code="merchant-identity", name="Identity")
    apps.get_model("identity", "IssuedCredential").objects.create(
        jti="j-1",
        merchant=merchant,
        key=key,
        credential_type=kind,
        assurance="high",
        issued_at=WHEN,
        expires_at=WHEN + timedelta(days=30),
    )
    agreement = apps.get_model("recognition", "RecognitionAgreement").objects.create(
        destination="CN", authority=authority, origin="CL", valid_from=WHEN, status="active", legal_basis="MoU"
    )
    agreement.credential_types.set([kind])
    apps.get_model("recognition", "Verification").objects.create(
        seq=1,
        created_at=WHEN,
        client="platform-1",
        destination="CN",
        token_sha256="0" * 64,
        decision="accepted",
        reasons=[],
        agreement=agreement,
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    apps.get_model("recognition", "TrustListState").objects.create(
        country="CN", sequence=3, content_sha256="2" * 64, changed_at=WHEN
    )
    return secret


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_layout_migrates_forward_with_every_row():
    migrate([("accounts", None), *OLD_HEAD])
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(old_head()).apps
        secret = fill_the_old_layout(old_apps)
        before = rows_of_every_table()
        migrate(AFTER_THE_MOVE)
        after = rows_of_every_table()
        migrate(new_head())
    finally:
        migrate(new_head())  # whatever happened, the next test finds the schema it expects

    relabelled = {
        (pk, "accounts" if app_label == "recognition" and model in ("apikey", "countryrole") else app_label, model)
        for pk, app_label, model in before.pop("django_content_type")
    }
    assert set(after.pop("django_content_type")) >= relabelled
    assert after == before  # every other row of every table, unchanged
    assert before["recognition_apikey"] and before["recognition_countryrole"] and before["recognition_verification"]

    # And on to the head: the keys and roles still work, the decision is the log's first leaf.
    key = ApiKey.objects.get_from_key(secret)
    assert (key.name, key.role) == ("platform-1", "platform")
    admin = CountryRole.objects.get(user__username="cn-admin")
    assert (admin.role, admin.country.code, scope_of(admin.user).country) == (Role.COUNTRY_ADMIN, "CN", "CN")
    assert scope_of(CountryRole.objects.get(user__username="rita").user).role == Role.REGULATOR
    (decision,) = Verification.objects.all()
    assert LogEntry.objects.get(id=decision.id).seq == 0
