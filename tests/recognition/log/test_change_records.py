"""From a history record to its change entry (recognition.ChangeRecord), the
way dispute evidence finds the rules a decision used without reading every
entry: one row for each change entry, written in the same transaction, for
every tracked model; none for a change rolled back; and migration 0012 fills
it for the entries already in the log from their bytes alone."""

import json

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from identity.services.authorities import authority_create, authority_suspend
from identity.services.keys import key_retire
from recognition.models import AppendOnlyError, ChangeRecord, LogEntry
from recognition.services.agreements import agreement_suspend


def records() -> dict[str, tuple[str, int]]:
    return {str(row.entry_id): (row.model, row.history_id) for row in ChangeRecord.objects.all()}


def by_bytes() -> dict[str, tuple[str, int]]:
    """What each change entry's own bytes say it records."""
    found = {}
    for entry_id, body in LogEntry.objects.filter(kind="change").values_list("id", "body"):
        fields = json.loads(bytes(body))
        found[str(entry_id)] = (fields["model"], fields["history_id"])
    return found


def test_every_change_entry_has_its_record_of_every_tracked_model(world):
    key_retire(key=world.kz.key)
    authority_suspend(authority=world.kz.authority)
    agreement_suspend(agreement=world.cn_recognizes_cl)
    assert records() == by_bytes()
    assert {model for model, _ in records().values()} >= {
        "identity.authority",
        "identity.authoritykey",
        "identity.merchant",
        "identity.credentialtype",
        "recognition.recognitionagreement",
    }
    latest = world.kz.key.history.order_by("-history_id").first()
    entry = ChangeRecord.objects.get(model="identity.authoritykey", history_id=latest.history_id).entry
    assert json.loads(bytes(entry.body))["values"]["status"] == "retired"


def test_a_change_rolled_back_leaves_no_record(world):
    before = records()
    with pytest.raises(RuntimeError), transaction.atomic():
        authority_create(country="FR", name="Rolled back", issuer="https://rolled-back.test/issuer")
        raise RuntimeError("abandoned")
    assert records() == before


def test_records_are_append_only(world):
    row = ChangeRecord.objects.first()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        ChangeRecord.objects.filter(pk=row.pk).update(history_id=0)


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_them_from_the_entries_already_in_the_log(world):
    written = records()
    assert written == by_bytes() and written
    executor = MigrationExecutor(connection)
    executor.migrate([("recognition", "0010_transparency_log")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert records() == written
