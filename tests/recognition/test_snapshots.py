"""The registry snapshot and the merchant look-up (recognition/snapshots.py).

Authorities, keys, agreements and credential types are read from a snapshot
kept by each worker; every write to their tables, however it is made, gives
the registry stamp a new value (triggers, migration 0005), and the next
verification reloads. Merchants and registry-issued credentials are read for
each request by one SQL query, which must find what the ORM finds (the
reference look-up, tests/support/reference.py). What the API answers after
each kind of change: tests/api/test_hot_path_registry_cache.py."""

import os
import subprocess
import sys
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.utils import timezone

from identity.models import IssuedCredential, Merchant
from recognition.snapshots import Party, Wanted, read_parties
from tests.support import reference
from tests.support.cli import MANAGE, python_path
from tests.support.workers import running_workers

TABLES = [
    "identity_authority",
    "identity_authoritykey",
    "identity_credentialtype",
    "recognition_recognitionagreement",
    "recognition_recognitionagreement_credential_types",
    "recognition_historicalrecognitionagreement",
]

NOTHING = Party(None, None, None, None)


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


# The merchant look-up against the ORM ----------------------------------------------------------


@pytest.fixture
def registry_issued(world) -> dict[str, IssuedCredential]:
    now = timezone.now()

    def issue(actor, jti: str, status: str) -> IssuedCredential:
        return IssuedCredential.objects.create(
            jti=jti,
            merchant=actor.merchant,
            key=actor.key,
            credential_type=world.merchant_identity,
            assurance="low",
            issued_at=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            status=status,
            revoked_at=now if status == "revoked" else None,
        )

    Merchant.objects.create(authority=world.cl.authority, registration_number="CL-%", legal_name="Percent Ltd")
    return {"valid": issue(world.cl, "cl-valid", "valid"), "revoked": issue(world.cn, "cn-revoked", "revoked")}


def test_merchant_look_up_finds_what_the_orm_finds(world, registry_issued):
    issuers = [world.cl.authority.issuer, world.cn.authority.issuer, "https://nobody.test/", "%", "' OR '1'='1"]
    subs = ["CL-0001", "CN-0001", "CL-%", "CL-%%", "CL-_001", "cl-0001", "CL-0001 ", "", None]
    jtis = ["cl-valid", "cn-revoked", "cl-%", "unknown", None]
    wanted = [Wanted(issuer, "kid", sub, jti, None) for issuer in issuers for sub in subs for jti in jtis]

    _, together = read_parties(wanted)
    one_by_one = [read_parties([item])[1][0] for item in wanted]

    expected = [reference.party(item) or NOTHING for item in wanted]
    assert together == one_by_one == expected
    found = [party for party in expected if party.registration_number]
    assert {party.credential_status for party in found} == {"valid", "revoked", None}


# Every write to a cached table gives a new stamp ------------------------------------------------


def test_every_cached_table_has_its_stamp_trigger(db):
    if connection.vendor == "postgresql":
        sql = "SELECT DISTINCT event_object_table FROM information_schema.triggers WHERE trigger_name = %s"
        params = ["recognition_registry_changed"]
    else:
        sql = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s"
        params = ["recognition_registry_changed_%"]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {row[0] for row in cursor.fetchall()}
    # SQLite drops a table's triggers when a migration rebuilds the table:
    # such a migration must create them again.
    assert found == set(TABLES)


def stamp() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT stamp FROM recognition_registry_stamp")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("table", TABLES)
def test_any_write_to_a_cached_table_gives_a_new_stamp(world, table):
    before = stamp()
    execute(f"UPDATE {table} SET id = id")  # noqa: S608 (our table names)
    assert stamp() != before


# Another process changes a cached table ---------------------------------------------------------


def compromise_in_another_process(url: str, token: str) -> None:
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(MANAGE), "compromise_key", "--", claims["iss"], header["kid"]],
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": python_path()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_running_workers_see_a_key_compromised_by_another_process(tmp_path):
    with running_workers(tmp_path) as (url, (first, second)):
        token = first.ask("setup")
        before = [first.ask(token), second.ask(token)]
        assert [answer["codes"] for answer in before] == [[], []]  # both snapshots loaded

        compromise_in_another_process(url, token)

        after = [first.ask(token), second.ask(token)]
    assert [answer["codes"] for answer in after] == [["key_compromised"]] * 2


def test_a_registry_without_its_stamp_row_is_refused_by_name(world):
    execute("DELETE FROM recognition_registry_stamp")
    wanted = Wanted(issuer="https://nobody.example", kid=None, sub="x", jti=None, type_code=None)
    with pytest.raises(RuntimeError, match="recognition_registry_stamp has no row"):
        read_parties([wanted])


def test_the_snapshots_are_the_packages_with_a_way_to_read_rows(world):
    """The rules (in_force, usable, verifies) are merchant_verifier's; the
    registry adds only `.of(row)`."""
    from identity.models import AuthorityKey
    from merchant_verifier import model
    from recognition.models import AgreementStatus, RecognitionAgreement
    from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot, KeySnapshot

    assert AgreementStatus.ACTIVE == model.AGREEMENT_ACTIVE
    row = AuthorityKey.objects.select_related("authority").first()
    key = KeySnapshot.of(row)
    assert isinstance(key, model.KeySnapshot) and key.jwk == row.public_jwk and key.kid == row.kid
    authority = AuthoritySnapshot.of(row.authority, keys=(key,))
    assert isinstance(authority, model.AuthoritySnapshot) and authority.keys == (key,)
    agreement = RecognitionAgreement.objects.filter(status=AgreementStatus.ACTIVE).first()
    snapshot = AgreementSnapshot.of(agreement, version=3)
    assert isinstance(snapshot, model.AgreementSnapshot) and snapshot.version == 3
    now = timezone.now()
    in_window = agreement.valid_from <= now and (agreement.valid_until is None or now < agreement.valid_until)
    assert snapshot.in_force(now) is in_window
