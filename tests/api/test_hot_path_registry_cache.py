"""The registry snapshot and the merchant look-up of the hot path.

Authorities, keys, agreements and credential types are read from a snapshot
kept by each worker; every write to their tables, however it is made, gives
the registry stamp a new value (triggers, migration 0005), and the next
verification reloads. Merchants and registry-issued credentials are read for
each request by one SQL query, which must find what the ORM finds."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import jwt
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.models import IssuedCredential, Merchant
from recognition.models import RecognitionAgreement, Verification
from recognition.snapshots import Party, Wanted, read_parties
from tests.api.test_changes_take_effect import running_workers
from tests.api.test_query_count import API_KEY, AUDIT, REGISTRY
from tests.support import reference
from tests.support.cli import MANAGE
from tests.support.tokens import sign

TABLES = [
    "identity_authority",
    "identity_authoritykey",
    "identity_credentialtype",
    "recognition_recognitionagreement",
    "recognition_recognitionagreement_credential_types",
    "recognition_historicalrecognitionagreement",
]
SNAPSHOT = 5  # authorities, keys, agreements with their latest version, their types, type codes
NOTHING = Party(None, None, None, None)


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def queries_of(api, token: str, destination: str = "CN") -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.verify(token, destination).status_code == 200
    return len(captured)


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


# Every write to a cached table takes effect at once --------------------------------------------


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


def test_raw_sql_changes_take_effect_for_the_very_next_verification(world, api):
    token, now = sign(world.cl), timezone.now()
    assert api.codes(token, "CN") == []

    execute("UPDATE identity_authority SET status = 'suspended' WHERE id = %s", [world.cl.authority.pk])
    assert api.codes(token, "CN") == ["issuer_suspended"]
    execute("UPDATE identity_authority SET status = 'active' WHERE id = %s", [world.cl.authority.pk])
    assert api.codes(token, "CN") == []

    execute(
        "UPDATE identity_authoritykey SET status = 'compromised', compromised_at = %s WHERE id = %s",
        [now, world.cl.key.pk],
    )
    assert api.codes(token, "CN") == ["key_compromised"]
    execute(
        "UPDATE identity_authoritykey SET status = 'active', compromised_at = NULL WHERE id = %s", [world.cl.key.pk]
    )

    agreement = world.cn_recognizes_cl.pk
    execute("UPDATE recognition_recognitionagreement SET status = 'suspended' WHERE id = %s", [agreement])
    assert api.codes(token, "CN") == ["agreement_not_in_force"]
    execute("UPDATE recognition_recognitionagreement SET status = 'active' WHERE id = %s", [agreement])
    assert api.codes(token, "CN") == []

    execute(
        "DELETE FROM recognition_recognitionagreement_credential_types WHERE recognitionagreement_id = %s", [agreement]
    )
    assert api.codes(token, "CN") == ["credential_type_not_recognized"]


def test_a_new_credential_type_and_a_new_agreement_version_take_effect_at_once(world, api):
    token = sign(world.cl, credential_type="trade-licence")
    assert api.codes(token, "CN") == ["invalid_claim", "credential_type_not_recognized"]
    execute("INSERT INTO identity_credentialtype (code, name, description) VALUES ('trade-licence', 'Trade', '')")
    assert api.codes(token, "CN") == ["credential_type_not_recognized"]

    agreement = RecognitionAgreement.objects.get(pk=world.cn_recognizes_cl.pk)
    answered = api.verify(sign(world.cl), "CN").json()
    version = Verification.objects.get(id=answered["id"]).agreement_version
    newer = agreement.history.latest()
    newer.pk = newer.history_id = None
    newer.save()  # a new history row only: the agreement's own row is untouched

    answered = api.verify(sign(world.cl), "CN").json()
    assert Verification.objects.get(id=answered["id"]).agreement_version == newer.history_id != version


def test_a_rolled_back_change_leaves_no_stale_snapshot(world, api):
    token = sign(world.cl)
    assert api.codes(token, "CN") == []
    with transaction.atomic():
        execute("UPDATE identity_authority SET status = 'revoked' WHERE id = %s", [world.cl.authority.pk])
        assert api.codes(token, "CN") == ["issuer_revoked"]  # the snapshot now has it
        transaction.set_rollback(True)
    assert api.codes(token, "CN") == []


def test_a_change_costs_one_reload_and_no_more(world, api):
    token = sign(world.cl)
    warm = API_KEY + REGISTRY + AUDIT
    queries_of(api, token)
    assert queries_of(api, token) == warm

    execute("UPDATE identity_authority SET name = 'Renamed' WHERE id = %s", [world.cl.authority.pk])
    assert queries_of(api, token) == warm + SNAPSHOT
    assert queries_of(api, token) == warm
    assert api.verify(token, "CN").json()["issuer"]["name"] == "Renamed"


# Another process changes a cached table ---------------------------------------------------------


def compromise_in_another_process(url: str, token: str) -> None:
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(MANAGE), "compromise_key", "--", claims["iss"], header["kid"]],
        env={**os.environ, "DATABASE_URL": url},
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


def test_snapshot_keys_are_built_once(world, api):
    from recognition import snapshots

    api.verify(sign(world.cl), "CN")
    snapshot = snapshots._snapshots[(connection.alias, str(connection.settings_dict["NAME"]))]
    key = snapshot.keys[(world.cl.authority.pk, world.cl.key.kid)]
    assert key.public_key is key.public_key
    assert json.loads(json.dumps(key.jwk)) == world.cl.key.public_jwk
