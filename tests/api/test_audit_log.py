"""The audit log of DESIGN §6 as the API writes it: one row per decision with
the documented fields, a SHA-256 chain recomputed independently of the
service (tests/support/audit.py), rows that neither the application nor (on PostgreSQL) the database
lets anyone change, `verify_audit_chain`, and the row committed together with
the answer or not at all."""

import hashlib
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from rest_framework.test import APIClient

from recognition.models import AppendOnlyError, RecognitionAgreement, Verification
from recognition.services import audit
from recognition.services.agreements import agreement_update_terms
from tests.support.api import BATCH_URL, Api
from tests.support.audit import ALLOW_AUDIT_TRUNCATE, GENESIS, expected_hash, tamper
from tests.support.cli import call
from tests.support.tokens import claims_for, sign


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_version(agreement: RecognitionAgreement) -> int:
    return agreement.history.filter(id=agreement.pk).order_by("-history_id").values_list("history_id", flat=True)[0]


def three_decisions(world, api: Api) -> list[Verification]:
    for actor, destination in [(world.cl, "CN"), (world.kz, "CN"), (world.cn, "CN")]:
        assert api.verify(sign(actor), destination).status_code == 200
    return list(Verification.objects.order_by("seq"))


# One row per decision -----------------------------------------------------------------------


def test_accepted_decision_writes_one_row_with_every_documented_field(world, api):
    claims = claims_for(world.cl)
    token = sign(world.cl, claims)

    body = api.verify(token, "CN", "CL").json()

    row = Verification.objects.get()
    assert (body["id"], body["audit"]) == (str(row.id), {"seq": row.seq, "hash": row.hash})
    assert row.seq == 1 and row.prev_hash == GENESIS
    assert {
        "client": row.client,
        "destination": row.destination,
        "origin": row.origin,
        "declared_origin": row.declared_origin,
        "issuer": row.issuer,
        "kid": row.kid,
        "subject": row.subject,
        "jti": row.jti,
        "token_sha256": row.token_sha256,
        "decision": row.decision,
        "reasons": row.reasons,
        "agreement_id": row.agreement_id,
        "agreement_version": row.agreement_version,
    } == {
        "client": "shop-platform",
        "destination": "CN",
        "origin": "CL",
        "declared_origin": "CL",
        "issuer": "https://registro-cl.test/issuer",
        "kid": world.cl.key.kid,
        "subject": "CL-0001",
        "jti": claims["jti"],
        "token_sha256": sha256(token),
        "decision": "accepted",
        "reasons": [],
        "agreement_id": world.cn_recognizes_cl.pk,
        "agreement_version": latest_version(world.cn_recognizes_cl),
    }
    assert abs(row.created_at - timezone.now()) < timedelta(seconds=30)


def test_rejected_decision_writes_one_row_with_its_reason_codes(world, api):
    now = int(time.time())
    token = sign(world.kz, iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    body = api.verify(token, "CN").json()

    row = Verification.objects.get()
    assert body["id"] == str(row.id)
    assert (row.decision, row.reasons) == ("rejected", ["expired", "no_agreement"])
    # The signature verified: the origin is the issuer's country; none was declared.
    assert (row.origin, row.declared_origin) == ("KZ", "")
    assert (row.issuer, row.kid, row.subject) == ("https://egov-kz.test/issuer", world.kz.key.kid, "KZ-0001")
    assert (row.agreement_id, row.agreement_version) == (None, None)
    assert row.token_sha256 == sha256(token)


def test_unverified_token_records_its_claims_but_not_their_origin(world, api):
    # Claims of Kazakhstan's issuer, signed with Chile's key: nothing is proven.
    forged = sign(world.cl, claims_for(world.kz), header={"kid": world.kz.key.kid})

    api.verify(forged, "CN", "CL")

    row = Verification.objects.get()
    assert (row.decision, row.reasons) == ("rejected", ["invalid_signature"])
    assert (row.issuer, row.subject) == ("https://egov-kz.test/issuer", "KZ-0001")
    # The origin is recorded only from a verified signature: neither the
    # declared CL nor the claimed issuer's KZ is a fact.
    assert (row.origin, row.declared_origin) == ("", "CL")


def test_malformed_token_is_recorded_like_any_other_decision(world, api):
    api.verify("not-a-token", "CN")

    row = Verification.objects.get()
    assert (row.decision, row.reasons) == ("rejected", ["malformed_token"])
    assert (row.issuer, row.kid, row.subject, row.jti) == ("", "", "", "")
    assert row.token_sha256 == sha256("not-a-token")


def test_token_itself_is_stored_nowhere_in_the_row(world, api):
    token = sign(world.cl)
    header, payload, signature = token.split(".")

    api.verify(token, "CN", "CL")

    stored = [str(getattr(Verification.objects.get(), field.attname)) for field in Verification._meta.concrete_fields]
    for part in (token, header, payload, signature):
        assert not any(part in value for value in stored)


def test_batch_writes_one_row_per_item_in_order_with_consecutive_seq(world, api):
    api.verify(sign(world.cl), "CN")  # seq 1, before the batch
    items = [
        {"token": sign(world.cl), "destination": "CN", "origin": "CL"},
        {"token": sign(world.kz), "destination": "CN"},
        {"token": "garbage", "destination": "CL"},
        {"token": sign(world.cn), "destination": "CN"},
    ]

    response = api.post(BATCH_URL, {"items": items})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    rows = list(Verification.objects.filter(seq__gt=1).order_by("seq"))
    assert [row.seq for row in rows] == [2, 3, 4, 5]
    assert [result["id"] for result in results] == [str(row.id) for row in rows]
    assert [result["audit"]["seq"] for result in results] == [2, 3, 4, 5]
    assert [row.token_sha256 for row in rows] == [sha256(item["token"]) for item in items]
    assert [row.destination for row in rows] == ["CN", "CN", "CL", "CN"]
    assert [row.decision for row in rows] == ["accepted", "rejected", "rejected", "accepted"]
    assert [row.reasons for row in rows] == [[], ["no_agreement"], ["malformed_token"], []]
    assert {row.client for row in rows} == {"shop-platform"}
    # One instant for the whole batch.
    assert len({row.created_at for row in rows}) == 1


def test_row_records_the_exact_agreement_version_applied(world, api):
    agreement = world.cn_recognizes_cl
    api.verify(sign(world.cl), "CN")
    before = Verification.objects.get()

    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity, world.export_licence],
        legal_basis="CN-CL e-commerce cooperation memorandum (2016), amended 2026",
    )
    api.verify(sign(world.cl), "CN")
    after = Verification.objects.get(seq=2)

    assert before.agreement_id == after.agreement_id == agreement.pk
    assert after.agreement_version == latest_version(agreement) != before.agreement_version
    applied = {row.history_id: row.legal_basis for row in agreement.history.all()}
    assert applied[before.agreement_version] == "CN-CL e-commerce cooperation memorandum (2016)"
    assert applied[after.agreement_version] == "CN-CL e-commerce cooperation memorandum (2016), amended 2026"


def test_api_key_name_is_the_recorded_client(world, api, regulator_key):
    api.verify(sign(world.cl), "CN", key=regulator_key)

    assert Verification.objects.get().client == "market-regulator"


# The chain ----------------------------------------------------------------------------------


def test_chain_is_the_documented_sha256_chain(world, api):
    three_decisions(world, api)
    # Non-ASCII text is hashed as UTF-8, not as \u escapes.
    api.verify(sign(world.cl, sub="Pérez-商户"), "CN")
    api.post(BATCH_URL, {"items": [{"token": sign(world.cl), "destination": "CN"}] * 2})

    rows = list(Verification.objects.order_by("seq"))

    assert [row.seq for row in rows] == list(range(1, 7))
    assert rows[3].subject == "Pérez-商户"
    prev_hash = GENESIS
    for row in rows:
        assert row.prev_hash == prev_hash, row.seq
        assert row.hash == expected_hash(prev_hash, row), row.seq
        prev_hash = row.hash


# Append-only in the application -------------------------------------------------------------


def forged_copy(row: Verification) -> Verification:
    """A fresh instance with an existing row's primary key and a changed decision."""
    fields = {field.attname: getattr(row, field.attname) for field in Verification._meta.concrete_fields}
    return Verification(**{**fields, "decision": "accepted", "reasons": []})


def snapshot() -> list[dict]:
    return list(Verification.objects.order_by("seq").values())


def test_application_refuses_to_change_or_delete_audit_rows(world, api):
    three_decisions(world, api)
    before = snapshot()
    row = Verification.objects.get(seq=2)
    attempts = {
        "save": lambda: setattr(row, "decision", "accepted") or row.save(),
        "save update_fields existing": lambda: row.save(update_fields=["decision"]),
        "delete": row.delete,
        "queryset update": lambda: Verification.objects.filter(seq=2).update(decision="accepted"),
        "queryset delete": lambda: Verification.objects.filter(seq=2).delete(),
        "delete all": lambda: Verification.objects.all().delete(),
        "bulk_update": lambda: Verification.objects.bulk_update([row], ["decision"]),
        "update_or_create": lambda: Verification.objects.update_or_create(seq=2, defaults={"decision": "accepted"}),
        # A new instance carrying an existing row's primary key.
        "save force_update": lambda: forged_copy(row).save(force_update=True),
        "save update_fields": lambda: forged_copy(row).save(update_fields=["decision"]),
        "bulk_create upsert": lambda: Verification.objects.bulk_create(
            [forged_copy(row)], update_conflicts=True, unique_fields=["id"], update_fields=["decision"]
        ),
    }

    for name, attempt in attempts.items():
        # A savepoint each: bulk_update's own atomic block has none and would
        # leave the test's transaction unusable after the refusal.
        with pytest.raises(AppendOnlyError), transaction.atomic():
            attempt()
        assert snapshot() == before, name
    assert audit.check_chain().intact


def test_database_refuses_raw_update_and_delete_on_postgresql(postgres_only, world, api):
    three_decisions(world, api)
    before = snapshot()

    for sql in [
        "UPDATE recognition_verification SET decision = 'accepted' WHERE seq = 2",
        "DELETE FROM recognition_verification WHERE seq = 2",
        "DELETE FROM recognition_verification",
    ]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
        assert snapshot() == before, sql


def run_deferred_checks() -> None:
    """PostgreSQL refuses to TRUNCATE a table with deferred foreign-key checks
    pending (this test's transaction inserted rows): run them now, so that a
    TRUNCATE reaches the trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_truncate_on_postgresql(postgres_only, world, api):
    three_decisions(world, api)
    before = snapshot()
    run_deferred_checks()

    for sql in [
        "TRUNCATE recognition_verification",
        "TRUNCATE recognition_verification RESTART IDENTITY CASCADE",
        # Reaches the audit log through its foreign key to the agreements.
        "TRUNCATE recognition_recognitionagreement CASCADE",
    ]:
        refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
        assert snapshot() == before, sql
    assert call("verify_audit_chain").stdout.startswith("audit chain intact: 3 records")


class RolledBack(Exception):
    pass


def test_truncate_setting_helps_only_a_role_that_could_drop_the_trigger_anyway(postgres_only, world, api):
    """The test runner's flush sets recognition.allow_audit_truncate (tests/
    conftest.py). Any role may SET a custom setting; it counts only for a role
    holding the table owner's privileges, who could DROP the trigger anyway."""
    three_decisions(world, api)
    before = snapshot()
    run_deferred_checks()
    outsider = f"audit_outsider_{uuid.uuid4().hex[:12]}"  # created in this test's transaction, rolled back with it
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {outsider}")
        cursor.execute(f"GRANT TRUNCATE ON recognition_verification TO {outsider}")

    refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {outsider}")
        cursor.execute(ALLOW_AUDIT_TRUNCATE)
        cursor.execute("TRUNCATE recognition_verification")
    assert snapshot() == before

    # The owner (this connection), as the flush does; undone by the savepoint.
    with pytest.raises(RolledBack), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ALLOW_AUDIT_TRUNCATE)
        cursor.execute("TRUNCATE recognition_verification")
        assert Verification.objects.count() == 0
        raise RolledBack
    assert snapshot() == before


def test_database_refuses_a_flush_outside_the_test_runner_on_postgresql(postgres_only, world, api, monkeypatch):
    # `manage.py flush` on a deployment: the same TRUNCATE, without the setting.
    three_decisions(world, api)
    run_deferred_checks()
    monkeypatch.setattr(type(connection.ops), "execute_sql_flush", BaseDatabaseOperations.execute_sql_flush)

    with pytest.raises(CommandError, match="couldn't be flushed") as refused:
        call("flush", "--no-input")
    assert "append-only: TRUNCATE refused" in str(refused.value.__cause__)
    assert Verification.objects.count() == 3


# verify_audit_chain -------------------------------------------------------------------------


def test_verify_audit_chain_reports_an_intact_chain(world, api):
    rows = three_decisions(world, api)

    out = call("verify_audit_chain")

    assert out.stdout.strip() == f"audit chain intact: 3 records, head {rows[-1].hash}"


@pytest.mark.parametrize(
    ("sql", "params", "broken"),
    [
        ("UPDATE recognition_verification SET client = %s WHERE seq = 2", ["mallory"], 2),
        ("UPDATE recognition_verification SET reasons = %s, decision = %s WHERE seq = 2", ["[]", "accepted"], 2),
        ("UPDATE recognition_verification SET created_at = %s WHERE seq = 3", ["2020-01-01 00:00:00"], 3),
        ("UPDATE recognition_verification SET prev_hash = %s WHERE seq = 2", [GENESIS], 2),
        ("UPDATE recognition_verification SET seq = %s WHERE seq = 3", [7], 3),
        ("DELETE FROM recognition_verification WHERE seq = %s", [2], 2),
        ("DELETE FROM recognition_verification WHERE seq = %s", [1], 1),
    ],
    ids=["client", "decision", "created_at", "prev_hash", "seq", "deleted middle row", "deleted first row"],
)
def test_verify_audit_chain_names_the_first_broken_seq(world, api, sql, params, broken):
    three_decisions(world, api)
    tamper(sql, params)

    with pytest.raises(CommandError, match=rf"^audit chain broken at seq {broken} \("):
        call("verify_audit_chain")


def test_row_rewritten_with_a_consistent_hash_breaks_the_next_link(world, api):
    three_decisions(world, api)
    row = Verification.objects.get(seq=2)
    row.client = "mallory"
    tamper(
        "UPDATE recognition_verification SET client = %s, hash = %s WHERE seq = 2",
        ["mallory", expected_hash(row.prev_hash, row)],
    )

    with pytest.raises(CommandError, match=r"seq 3 \(3 records\)"):
        call("verify_audit_chain")


# The row and the answer commit together -----------------------------------------------------


def test_failed_audit_commit_answers_an_error_and_writes_nothing(world, platform_key, monkeypatch):
    manager = Verification.objects
    insert = manager.bulk_create

    def insert_then_fail(rows, **kwargs):
        insert(rows, **kwargs)  # the rows reach the database, then the connection fails
        raise DatabaseError("connection lost")

    monkeypatch.setattr(manager, "bulk_create", insert_then_fail)
    api = Api(client=APIClient(raise_request_exception=False), key=platform_key)

    single = api.verify(sign(world.cl), "CN")
    batch = api.post(BATCH_URL, {"items": [{"token": sign(world.cl), "destination": "CN"}] * 3})

    for response in (single, batch):
        assert response.status_code == 503, response.content
        assert response.json()["error"] == "service_unavailable"
        assert "connection lost" not in response.content.decode()
    assert Verification.objects.count() == 0

    monkeypatch.undo()
    assert api.verify(sign(world.cl), "CN").json()["audit"]["seq"] == 1


# A commit the database never confirmed -------------------------------------------------------


def _commit_then_lose_the_answer(monkeypatch):
    """The database commits, then the connection fails before it says so."""
    commit = connection.commit

    def commit_then_fail():
        commit()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "commit", commit_then_fail)


def _flush_fails(monkeypatch, error=None):
    def fail():
        raise error or OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(audit, "_flush_committed", fail)


FAILURES_AFTER_SENDING = {
    "commit unconfirmed": _commit_then_lose_the_answer,
    "flush failed": _flush_fails,
    "fsync failed": lambda monkeypatch: _flush_fails(monkeypatch, OSError(5, "Input/output error")),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", FAILURES_AFTER_SENDING)
def test_a_commit_never_confirmed_is_a_503_naming_the_rows_it_may_have_recorded(
    world, platform_key, monkeypatch, failure
):
    api = Api(client=APIClient(raise_request_exception=False), key=platform_key)
    FAILURES_AFTER_SENDING[failure](monkeypatch)

    single = api.verify(sign(world.cl), "CN")
    batch = api.post(BATCH_URL, {"items": [{"token": sign(world.cl), "destination": "CN"}] * 3})
    monkeypatch.undo()

    for response in (single, batch):
        assert response.status_code == 503, response.content
        assert response.json()["error"] == "service_unavailable"
        assert "server closed" not in response.content.decode() and "Input/output" not in response.content.decode()
    rows = list(Verification.objects.order_by("seq"))  # here the database did record them
    assert [row.seq for row in rows] == [1, 2, 3, 4]
    assert single.json()["detail"] == (
        "the database failed while recording the decision; it may have been recorded as "
        f"audit record {rows[0].id} (seq 1); a regulator can confirm it in the audit log; try again later"
    )
    assert (
        f"3 audit records seq 2 to 4 (ids {rows[1].id} to {rows[3].id}, one an item, in order)"
        in (batch.json()["detail"])
    )
    # The chain goes on from what was recorded.
    assert api.verify(sign(world.cl), "CN").json()["audit"]["seq"] == 5
    assert call("verify_audit_chain").stdout.startswith("audit chain intact: 5 records")


@pytest.mark.django_db(transaction=True)
def test_a_failure_before_the_rows_are_sent_names_none_and_records_nothing(world, platform_key, monkeypatch):
    def lock_refused(**kwargs):
        raise OperationalError("could not obtain lock")

    monkeypatch.setattr(audit, "_lock_chain_and_read_head", lock_refused)
    api = Api(client=APIClient(raise_request_exception=False), key=platform_key)
    response = api.verify(sign(world.cl), "CN")
    assert response.status_code == 503
    assert response.json() == {
        "error": "service_unavailable",
        "detail": "the registry cannot reach its database; try again later",
    }
    assert Verification.objects.count() == 0
