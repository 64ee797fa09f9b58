"""The audit log of DESIGN §6 as the API writes it: one decision entry per
answer holding every documented field (its bytes and leaf hash written out
again without the service's code: tests/support/audit.py), the `audit`
member of the answer with a receipt that verifies, the exact agreement
version applied; entries, decisions and checkpoints that neither the
application nor (on PostgreSQL) the database lets anyone change, tiles that
only grow, and the one change allowed, a leaf index given once; and when
the database fails, a 503 that says which rows it may have recorded."""

import hashlib
import json
import time
import uuid
from datetime import UTC, timedelta

import pytest
from django.core.management.base import CommandError
from django.db import DatabaseError, InterfaceError, OperationalError, connection, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from rest_framework.test import APIClient

from recognition.log.integrator import integrate_all
from recognition.models import (
    AppendOnlyError,
    ChangeRecord,
    Checkpoint,
    LogEntry,
    LogTile,
    RecognitionAgreement,
    Verification,
)
from recognition.services import audit
from recognition.services.agreements import agreement_update_terms
from tests.support.api import BATCH_URL, Api
from tests.support.audit import ALLOW_AUDIT_TRUNCATE, audit_of, expected_entry, leaf_hash
from tests.support.cli import call
from tests.support.recording_failures import AFTER_SENDING, FAILURES
from tests.support.tokens import claims_for, sign


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_version(agreement: RecognitionAgreement) -> int:
    return agreement.history.filter(id=agreement.pk).order_by("-history_id").values_list("history_id", flat=True)[0]


def decisions() -> list[Verification]:
    return list(Verification.objects.order_by("created_at", "id"))


def entry_of(row: Verification) -> dict:
    return json.loads(bytes(LogEntry.objects.get(id=row.id).body))


def three_decisions(world, api: Api) -> list[Verification]:
    for actor, destination in [(world.cl, "CN"), (world.kz, "CN"), (world.cn, "CN")]:
        assert api.verify(sign(actor), destination).status_code == 200
    return decisions()


# One entry per decision -------------------------------------------------------------------------


def test_accepted_decision_writes_one_entry_with_every_documented_field(world, api):
    claims = claims_for(world.cl)
    token = sign(world.cl, claims)
    changes = LogEntry.objects.filter(kind="change").count()

    body = api.verify(token, "CN", "CL").json()

    row = Verification.objects.get()
    log_entry = LogEntry.objects.get(kind="decision")
    assert LogEntry.objects.filter(kind="change").count() == changes  # a decision changes no rule
    assert (body["id"], log_entry.id) == (str(row.id), row.id)
    assert body["audit"] == audit_of(row, body["audit"])  # id, leaf hash of the exact bytes, receipt
    assert entry_of(row) == {
        "kind": "decision",
        "id": str(row.id),
        "created_at": row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
    assert bytes(log_entry.body) == expected_entry(row)
    assert (log_entry.created_at, log_entry.seq) == (row.created_at, None)
    assert abs(row.created_at - timezone.now()) < timedelta(seconds=30)


def test_rejected_decision_writes_one_entry_with_its_reason_codes(world, api):
    now = int(time.time())
    token = sign(world.kz, iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    body = api.verify(token, "CN").json()

    row = Verification.objects.get()
    fields = entry_of(row)
    assert body["id"] == str(row.id) and body["audit"] == audit_of(row, body["audit"])
    assert (fields["decision"], fields["reasons"]) == ("rejected", ["expired", "no_agreement"])
    # The signature verified: the origin is the issuer's country; none was declared.
    assert (fields["origin"], fields["declared_origin"]) == ("KZ", "")
    assert (fields["issuer"], fields["kid"], fields["subject"]) == (
        "https://egov-kz.test/issuer",
        world.kz.key.kid,
        "KZ-0001",
    )
    assert (fields["agreement_id"], fields["agreement_version"]) == (None, None)
    assert fields["token_sha256"] == sha256(token)


def test_unverified_token_records_its_claims_but_not_their_origin(world, api):
    # Claims of Kazakhstan's issuer, signed with Chile's key: nothing is proven.
    forged = sign(world.cl, claims_for(world.kz), header={"kid": world.kz.key.kid})

    api.verify(forged, "CN", "CL")

    fields = entry_of(Verification.objects.get())
    assert (fields["decision"], fields["reasons"]) == ("rejected", ["invalid_signature"])
    assert (fields["issuer"], fields["subject"]) == ("https://egov-kz.test/issuer", "KZ-0001")
    # The origin is recorded only from a verified signature: neither the
    # declared CL nor the claimed issuer's KZ is a fact.
    assert (fields["origin"], fields["declared_origin"]) == ("", "CL")


def test_malformed_token_is_recorded_like_any_other_decision(world, api):
    body = api.verify("not-a-token", "CN").json()

    row = Verification.objects.get()
    fields = entry_of(row)
    assert body["audit"] == audit_of(row, body["audit"])
    assert (fields["decision"], fields["reasons"]) == ("rejected", ["malformed_token"])
    assert (fields["issuer"], fields["kid"], fields["subject"], fields["jti"]) == ("", "", "", "")
    assert fields["token_sha256"] == sha256("not-a-token")


def test_token_itself_is_stored_nowhere_in_the_row_or_the_entry(world, api):
    token = sign(world.cl)
    header, payload, signature = token.split(".")

    api.verify(token, "CN", "CL")

    row = Verification.objects.get()
    stored = [str(getattr(row, field.attname)) for field in Verification._meta.concrete_fields]
    stored.append(bytes(LogEntry.objects.get(id=row.id).body).decode())
    for part in (token, header, payload, signature):
        assert not any(part in value for value in stored)


def test_batch_writes_one_entry_per_item_in_order_at_one_instant(world, api):
    api.verify(sign(world.cl), "CN")  # before the batch
    first = Verification.objects.get()
    items = [
        {"token": sign(world.cl), "destination": "CN", "origin": "CL"},
        {"token": sign(world.kz), "destination": "CN"},
        {"token": "garbage", "destination": "CL"},
        {"token": sign(world.cn), "destination": "CN"},
    ]

    response = api.post(BATCH_URL, {"items": items})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    by_id = {row.id: row for row in Verification.objects.exclude(id=first.id)}
    rows = [by_id[uuid.UUID(result["id"])] for result in results]
    assert len(by_id) == 4 and len(rows) == 4
    for result, row in zip(results, rows, strict=True):
        assert result["audit"] == audit_of(row, result["audit"])
    fields = [entry_of(row) for row in rows]
    assert [f["token_sha256"] for f in fields] == [sha256(item["token"]) for item in items]
    assert [f["destination"] for f in fields] == ["CN", "CN", "CL", "CN"]
    assert [f["decision"] for f in fields] == ["accepted", "rejected", "rejected", "accepted"]
    assert [f["reasons"] for f in fields] == [[], ["no_agreement"], ["malformed_token"], []]
    assert {f["client"] for f in fields} == {"shop-platform"}
    # One instant for the whole batch, after the decision before it.
    assert len({f["created_at"] for f in fields}) == 1 and rows[0].created_at >= first.created_at


def test_the_entry_records_the_exact_agreement_version_applied(world, api):
    agreement = world.cn_recognizes_cl
    api.verify(sign(world.cl), "CN")
    before = Verification.objects.get()

    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity, world.export_licence],
        legal_basis="CN-CL e-commerce cooperation memorandum (2016), amended 2026",
    )
    api.verify(sign(world.cl), "CN")
    after = Verification.objects.exclude(id=before.id).get()

    first, second = entry_of(before), entry_of(after)
    assert first["agreement_id"] == second["agreement_id"] == agreement.pk
    assert second["agreement_version"] == after.agreement_version == latest_version(agreement)
    assert first["agreement_version"] == before.agreement_version != second["agreement_version"]
    applied = {row.history_id: row.legal_basis for row in agreement.history.all()}
    assert applied[first["agreement_version"]] == "CN-CL e-commerce cooperation memorandum (2016)"
    assert applied[second["agreement_version"]] == "CN-CL e-commerce cooperation memorandum (2016), amended 2026"
    # The version the decision applied is itself an entry of the log: the change's.
    changes = [
        json.loads(bytes(body)) for body in LogEntry.objects.filter(kind="change").values_list("body", flat=True)
    ]
    assert {(change["model"], change["history_id"]) for change in changes if change["model"].endswith("agreement")} >= {
        ("recognition.recognitionagreement", first["agreement_version"]),
        ("recognition.recognitionagreement", second["agreement_version"]),
    }


def test_api_key_name_is_the_recorded_client(world, api, regulator_key):
    api.verify(sign(world.cl), "CN", key=regulator_key)

    assert entry_of(Verification.objects.get())["client"] == "market-regulator"


# Append-only in the application ------------------------------------------------------------------------


def the_log(world, api: Api) -> None:
    """Three decisions, placed in the tree and checkpointed."""
    three_decisions(world, api)
    integrate_all()


def snapshot() -> dict[str, list[dict]]:
    return {
        "decisions": list(Verification.objects.order_by("id").values()),
        "entries": list(LogEntry.objects.order_by("id").values()),
        "checkpoints": list(Checkpoint.objects.order_by("id").values()),
    }


# (model, a field and a new value for it, a lookup of one existing row)
APPEND_ONLY = {
    "Verification": (Verification, "decision", "accepted", {"decision": "rejected"}),
    "LogEntry": (LogEntry, "kind", "change", {"kind": "decision"}),
    "Checkpoint": (Checkpoint, "note", "forged", {}),
}


def forged_copy(row: models.Model, field: str, value: object) -> models.Model:
    """A fresh instance with an existing row's primary key and a changed field."""
    fields = {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}
    return type(row)(**{**fields, field: value})


@pytest.mark.parametrize("name", APPEND_ONLY)
def test_application_refuses_to_change_or_delete_the_logs_rows(world, api, name):
    model, field, value, lookup = APPEND_ONLY[name]
    the_log(world, api)
    before = snapshot()
    row = model.objects.filter(**lookup).order_by("pk").first()
    rows = model.objects.filter(pk=row.pk)
    attempts = {
        "save": lambda: setattr(row, field, value) or row.save(),
        "save update_fields existing": lambda: row.save(update_fields=[field]),
        "delete": row.delete,
        "queryset update": lambda: rows.update(**{field: value}),
        "queryset delete": lambda: rows.delete(),
        "delete all": lambda: model.objects.all().delete(),
        "bulk_update": lambda: model.objects.bulk_update([row], [field]),
        "update_or_create": lambda: model.objects.update_or_create(pk=row.pk, defaults={field: value}),
        # A new instance carrying an existing row's primary key.
        "save force_update": lambda: forged_copy(row, field, value).save(force_update=True),
        "save update_fields": lambda: forged_copy(row, field, value).save(update_fields=[field]),
        "bulk_create upsert": lambda: model.objects.bulk_create(
            [forged_copy(row, field, value)], update_conflicts=True, unique_fields=["id"], update_fields=[field]
        ),
    }

    for attempt_name, attempt in attempts.items():
        # A savepoint each: bulk_update's own atomic block has none and would
        # leave the test's transaction unusable after the refusal.
        with pytest.raises(AppendOnlyError), transaction.atomic():
            attempt()
        assert snapshot() == before, attempt_name
    assert call("verify_audit_log").stdout.startswith("audit log intact: ")


# Append-only in the database (PostgreSQL) -----------------------------------------------------------


def refused(sql: str, params: list | None = None, match: str = "append-only") -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_refuses_updates_and_deletes_of_decisions_entries_and_checkpoints(postgres_only, world, api):
    the_log(world, api)
    before = snapshot()
    entry_id = LogEntry.objects.filter(kind="decision").order_by("seq").first().id

    for sql, params in [
        ("UPDATE recognition_verification SET decision = 'accepted'", None),
        ("DELETE FROM recognition_verification", None),
        ("UPDATE recognition_logentry SET body = %s WHERE id = %s", [b"{}", entry_id]),
        ("UPDATE recognition_logentry SET kind = 'change' WHERE id = %s", [entry_id]),
        ("UPDATE recognition_logentry SET created_at = created_at + interval '1 second'", None),
        ("DELETE FROM recognition_logentry WHERE id = %s", [entry_id]),
        ("UPDATE recognition_checkpoint SET note = 'forged'", None),
        ("UPDATE recognition_checkpoint SET size = size + 1", None),
        ("DELETE FROM recognition_checkpoint", None),
    ]:
        refused(sql, params)
        assert snapshot() == before, sql


def test_database_refuses_updates_and_deletes_of_cosignatures_witness_events_and_change_records(
    postgres_only, world, api
):
    from recognition.models import Cosignature, WitnessEvent, WitnessOutcome
    from recognition.services.witnesses import witness_add
    from tests.recognition.services.test_witnesses import witness_vkey

    the_log(world, api)
    witness = witness_add(
        name="witness.test/w1", country="CL", url="http://127.0.0.1:9", vkey=witness_vkey("witness.test/w1")
    )
    checkpoint, now = Checkpoint.objects.order_by("-size").first(), timezone.now()
    Cosignature.objects.create(checkpoint=checkpoint, witness=witness, line="\u2014 w x\n", timestamp=1, created_at=now)
    WitnessEvent.objects.create(
        witness=witness, size=checkpoint.size, outcome=WitnessOutcome.REFUSED, reason="HTTP 500", created_at=now
    )
    counts = (Cosignature.objects.count(), WitnessEvent.objects.count(), ChangeRecord.objects.count())
    for sql in [
        "UPDATE recognition_cosignature SET line = 'forged'",
        "DELETE FROM recognition_cosignature",
        "UPDATE recognition_witnessevent SET reason = 'forged'",
        "DELETE FROM recognition_witnessevent",
        "UPDATE recognition_changerecord SET history_id = history_id + 1",
        "DELETE FROM recognition_changerecord",
    ]:
        refused(sql)
    assert counts == (1, 1, ChangeRecord.objects.count()) and counts[2] > 0


def test_database_lets_a_leaf_index_be_given_once_to_an_entry_that_has_none(postgres_only, world, api):
    the_log(world, api)
    api.verify(sign(world.cl), "CN")
    pending = LogEntry.objects.get(seq__isnull=True)
    placed = LogEntry.objects.filter(seq__isnull=False).order_by("seq").last()
    next_seq = placed.seq + 1

    refused(
        "UPDATE recognition_logentry SET seq = %s, body = %s WHERE id = %s",  # the bytes along with it
        [next_seq, b"{}", pending.id],
        match="only a missing seq may be given",
    )
    refused(
        "UPDATE recognition_logentry SET seq = %s, leaf_hash = %s WHERE id = %s",
        [next_seq, b"\x00" * 32, pending.id],
        match="only a missing seq may be given",
    )
    refused("UPDATE recognition_logentry SET seq = %s WHERE id = %s", [next_seq + 5, placed.id])  # a seq changed
    refused("UPDATE recognition_logentry SET seq = NULL WHERE id = %s", [placed.id])
    assert LogEntry.objects.get(id=pending.id).seq is None

    with connection.cursor() as cursor:  # what the integrator does
        cursor.execute("UPDATE recognition_logentry SET seq = %s WHERE id = %s", [next_seq, pending.id])
    assert LogEntry.objects.get(id=pending.id).seq == next_seq
    refused("UPDATE recognition_logentry SET seq = %s WHERE id = %s", [next_seq + 1, pending.id])  # given twice
    assert LogEntry.objects.get(id=pending.id).seq == next_seq


def test_database_lets_a_tile_only_grow(postgres_only, world, api):
    the_log(world, api)
    tile = LogTile.objects.get(level=0, index=0)
    hashes = bytes(tile.hashes)

    refused("UPDATE recognition_logtile SET hashes = %s WHERE id = %s", [hashes[:-32], tile.id], "only grows")
    refused("UPDATE recognition_logtile SET hashes = %s WHERE id = %s", [b"\x01" + hashes[1:], tile.id], "only grows")
    refused("UPDATE recognition_logtile SET index = 7 WHERE id = %s", [tile.id], "only grows")
    refused("DELETE FROM recognition_logtile WHERE id = %s", [tile.id], "only grows")
    assert bytes(LogTile.objects.get(id=tile.id).hashes) == hashes

    with connection.cursor() as cursor:  # grown by a hash, as the integrator grows it
        cursor.execute("UPDATE recognition_logtile SET hashes = hashes || %s WHERE id = %s", [b"\x02" * 32, tile.id])
    assert bytes(LogTile.objects.get(id=tile.id).hashes) == hashes + b"\x02" * 32


def run_deferred_checks() -> None:
    """PostgreSQL refuses to TRUNCATE a table with deferred foreign-key checks
    pending (this test's transaction inserted rows): run them now, so that a
    TRUNCATE reaches the trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_truncate_on_postgresql(postgres_only, world, api):
    the_log(world, api)
    before = snapshot()
    run_deferred_checks()

    for sql in [
        "TRUNCATE recognition_verification",
        "TRUNCATE recognition_verification RESTART IDENTITY CASCADE",
        # Reaches the decisions through their foreign key to the agreements.
        "TRUNCATE recognition_recognitionagreement CASCADE",
        "TRUNCATE recognition_logentry",
        # A cosignature refers to its checkpoint: both at once, or the foreign key refuses first.
        "TRUNCATE recognition_checkpoint, recognition_cosignature",
        "TRUNCATE recognition_checkpoint CASCADE",
        "TRUNCATE recognition_cosignature",
        "TRUNCATE recognition_witnessevent",
        "TRUNCATE recognition_changerecord",
        "TRUNCATE recognition_logtile",
    ]:
        refused(sql, match="append-only: TRUNCATE refused")
        assert snapshot() == before, sql
    assert LogTile.objects.exists()
    assert call("verify_audit_log").stdout.startswith("audit log intact: ")


class RolledBack(Exception):
    pass


@pytest.mark.parametrize(
    "table", ["recognition_verification", "recognition_logentry", "recognition_checkpoint, recognition_cosignature"]
)
def test_truncate_setting_helps_only_a_role_that_could_drop_the_trigger_anyway(postgres_only, world, api, table):
    """The test runner's flush sets recognition.allow_audit_truncate (tests/
    conftest.py). Any role may SET a custom setting; it counts only for a role
    holding the table owner's privileges, who could DROP the trigger anyway."""
    the_log(world, api)
    before = snapshot()
    run_deferred_checks()
    outsider = f"audit_outsider_{uuid.uuid4().hex[:12]}"  # created in this test's transaction, rolled back with it
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {outsider}")
        cursor.execute(f"GRANT TRUNCATE ON {table} TO {outsider}")

    refusal = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
    with refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {outsider}")
        cursor.execute(ALLOW_AUDIT_TRUNCATE)
        cursor.execute(f"TRUNCATE {table}")
    assert snapshot() == before

    # The owner (this connection), as the flush does; undone by the savepoint.
    with pytest.raises(RolledBack), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ALLOW_AUDIT_TRUNCATE)
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a name of ours)
        assert cursor.fetchone() == (0,)
        raise RolledBack
    assert snapshot() == before


def test_database_refuses_a_flush_outside_the_test_runner_on_postgresql(postgres_only, world, api, monkeypatch):
    # `manage.py flush` on a deployment: the same TRUNCATE, without the setting.
    the_log(world, api)
    run_deferred_checks()
    monkeypatch.setattr(type(connection.ops), "execute_sql_flush", BaseDatabaseOperations.execute_sql_flush)

    with pytest.raises(CommandError, match="couldn't be flushed") as refused_flush:
        call("flush", "--no-input")
    assert "append-only: TRUNCATE refused" in str(refused_flush.value.__cause__)
    assert Verification.objects.count() == 3 and LogEntry.objects.filter(kind="decision").count() == 3


# When the database fails -----------------------------------------------------------------------------


def failing_client(platform_key) -> Api:
    return Api(client=APIClient(raise_request_exception=False), key=platform_key)


def answered_503(response) -> str:
    assert response.status_code == 503, response.content
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == "service_unavailable"
    for secret in ("server closed", "Input/output", "disk I/O", "connection already closed", "Connection refused"):
        assert secret not in body["detail"]
    return body["detail"]


def lost_when_recording(error: Exception):
    """The database becomes unreachable when the rows are about to be
    written: nothing is sent."""

    def fail(monkeypatch) -> None:
        build = audit.build

        def build_then_lose_the_database(*args, **kwargs):
            def refuse():
                raise error

            monkeypatch.setattr(connection, "ensure_connection", refuse)
            return build(*args, **kwargs)

        monkeypatch.setattr(audit, "build", build_then_lose_the_database)

    return fail


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error",
    [OperationalError("could not connect to server: Connection refused"), InterfaceError("connection already closed")],
    ids=["refused", "connection gone"],
)
def test_a_failure_before_the_rows_are_sent_is_a_503_that_names_none_and_records_nothing(
    world, platform_key, monkeypatch, error
):
    api = failing_client(platform_key)
    lost_when_recording(error)(monkeypatch)

    single = api.verify(sign(world.cl), "CN")
    monkeypatch.undo()

    assert answered_503(single) == "the registry cannot reach its database; try again later"
    assert Verification.objects.count() == LogEntry.objects.filter(kind="decision").count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_failure_before_the_commit_is_a_503_that_names_none_and_records_nothing(
    world, platform_key, monkeypatch
):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite writes in a transaction; PostgreSQL's one statement is covered below")
    insert = audit.insert_together

    def insert_then_fail(*args, **kwargs):
        insert(*args, **kwargs)  # the rows reach the database, then it fails before the commit
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(audit, "insert_together", insert_then_fail)
    api = failing_client(platform_key)

    single = api.verify(sign(world.cl), "CN")
    batch = api.post(BATCH_URL, {"items": [{"token": sign(world.cl), "destination": "CN"}] * 3})
    monkeypatch.undo()

    for response in (single, batch):
        assert answered_503(response) == "the registry cannot reach its database; try again later"
    assert Verification.objects.count() == LogEntry.objects.filter(kind="decision").count() == 0
    assert api.verify(sign(world.cl), "CN").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", FAILURES)
def test_a_commit_never_confirmed_is_a_503_naming_the_rows_it_may_have_recorded(
    world, platform_key, monkeypatch, failure
):
    if failure not in AFTER_SENDING[connection.vendor]:
        pytest.skip(f"not how {connection.vendor} fails after sending")
    api = failing_client(platform_key)
    AFTER_SENDING[connection.vendor][failure](monkeypatch)

    single_token, batch_tokens = sign(world.cl), [sign(world.cl) for _ in range(3)]
    single = api.verify(single_token, "CN")
    batch = api.post(BATCH_URL, {"items": [{"token": token, "destination": "CN"} for token in batch_tokens]})
    monkeypatch.undo()

    rows = decisions()  # here the database did record them
    by_token = {row.token_sha256: row for row in rows}
    assert len(rows) == len(by_token) == 4
    single_row, batch_rows = by_token[sha256(single_token)], [by_token[sha256(token)] for token in batch_tokens]
    assert answered_503(single) == (
        "the database failed while recording the decision; it may have been recorded as "
        f"audit record {single_row.id}; a regulator can confirm it in the audit log; try again later"
    )
    assert answered_503(batch) == (
        "the database failed while recording the decision; it may have been recorded as "
        f"3 audit records, one an item in order: {', '.join(str(row.id) for row in batch_rows)}; "
        "a regulator can confirm it in the audit log; try again later"
    )
    # Each row named is in the log, with its entry; the log goes on from them.
    for row in rows:
        assert bytes(LogEntry.objects.get(id=row.id).leaf_hash) == leaf_hash(expected_entry(row))
    assert api.verify(sign(world.cl), "CN").status_code == 200
    integrate_all()
    assert call("verify_audit_log").stdout.startswith(f"audit log intact: {LogEntry.objects.count()} leaves")
