"""The registry snapshot of the hot path, through the API.

Authorities, keys, agreements and credential types are read from a snapshot
kept by each worker; every write to their tables, however it is made, gives
the registry stamp a new value (triggers, migration 0005), and the next
verification reloads: raw SQL changes, a new credential type or agreement
version, a rolled-back change, at the cost of one reload. The stamp's
triggers, the merchant look-up against the ORM and workers in other
processes: tests/recognition/test_snapshots.py."""

import json

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recognition.models import RecognitionAgreement, Verification
from tests.api.test_query_count import API_KEY, REGISTRY, audit
from tests.support.tokens import sign

SNAPSHOT = 5  # authorities, keys, agreements with their latest version, their types, type codes


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def queries_of(api, token: str, destination: str = "CN") -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.verify(token, destination).status_code == 200
    return len(captured)


# Every write to a cached table takes effect at once --------------------------------------------


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
    warm = API_KEY + REGISTRY + audit()
    queries_of(api, token)
    assert queries_of(api, token) == warm

    execute("UPDATE identity_authority SET name = 'Renamed' WHERE id = %s", [world.cl.authority.pk])
    assert queries_of(api, token) == warm + SNAPSHOT
    assert queries_of(api, token) == warm
    assert api.verify(token, "CN").json()["issuer"]["name"] == "Renamed"


def test_snapshot_keys_are_built_once(world, api):
    from recognition import snapshots

    api.verify(sign(world.cl), "CN")
    snapshot = snapshots._snapshots[(connection.alias, str(connection.settings_dict["NAME"]))]
    key = snapshot.keys[(world.cl.authority.pk, world.cl.key.kid)]
    assert key.public_key is key.public_key
    assert json.loads(json.dumps(key.jwk)) == world.cl.key.public_jwk
