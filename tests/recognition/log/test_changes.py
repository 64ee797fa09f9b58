"""Every change to the registry's rules is a change entry of the log (DESIGN
§6): for each history record of Authority, AuthorityKey, Merchant,
CredentialType, IssuedCredential and RecognitionAgreement, one entry in the
same transaction as the change, whose bytes hold the model, the object's id,
the history id, the change type, the new value of every field, the user and
the reason. A change rolled back leaves no entry; a change whose entry would
be too large for the log is refused, and nothing of it is written."""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from identity.jose.key_files import public_jwk_of
from identity.models import CredentialType
from identity.services.authorities import authority_create, authority_suspend, authority_update
from identity.services.credentials import credential_issue, credential_revoke, credential_type_create
from identity.services.keys import key_register, key_retire
from identity.services.merchants import merchant_register, merchant_suspend, merchant_update
from recognition.log.entries import MAX_ENTRY_BYTES
from recognition.models import LogEntry, RecognitionAgreement
from recognition.services.agreements import agreement_activate, agreement_create, agreement_update_terms


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def written_as(value: Any) -> Any:
    """A field's value as DESIGN §6 writes it, spelled out again: instants
    as entry timestamps, countries as their codes."""
    if isinstance(value, datetime):
        return stamp(value)
    if type(value).__name__ == "Country":
        return value.code
    return value


def values_of(instance: models.Model) -> dict[str, Any]:
    """Every field of the row as stored (foreign keys by id), read again."""
    stored = type(instance).objects.get(pk=instance.pk)
    values = {field.attname: written_as(getattr(stored, field.attname)) for field in type(stored)._meta.concrete_fields}
    if isinstance(stored, RecognitionAgreement):
        values["credential_types"] = sorted(kind.code for kind in stored.credential_types.all())
    return values


def change_entries() -> dict[uuid.UUID, LogEntry]:
    return {row.id: row for row in LogEntry.objects.filter(kind="change")}


def the_one_new_entry(before: dict[uuid.UUID, LogEntry]) -> LogEntry:
    (new,) = [row for id, row in change_entries().items() if id not in before]
    return new


# Each tracked model changed through its service: a case prepares what the
# change needs, and returns the change, which gives the changed row and the
# reason the service records.
Change = Callable[[], tuple[models.Model, str]]


def authority_created(world) -> Change:
    def change():
        issuer = "https://astana.test/issuer"
        return authority_create(country="KZ", name="Astana Hub", issuer=issuer, user=world.alice), "created"

    return change


def authority_changed(world) -> Change:
    def change():
        name = "Registry \u2014 \u00c9galit\u00e9 \u5546"  # non-ASCII, kept as UTF-8
        authority = authority_update(authority=world.kz.authority, name=name, max_assurance="low", user=world.alice)
        return authority, "details changed"

    return change


def authority_suspended(world) -> Change:
    return lambda: (authority_suspend(authority=world.kz.authority, user=world.alice), "status suspended")


def key_registered(world) -> Change:
    jwk = public_jwk_of(ed25519.Ed25519PrivateKey.generate())
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return lambda: (key_register(authority=world.kz.authority, jwk=jwk, not_before=at, user=world.root), "registered")


def key_retired(world) -> Change:
    at = timezone.now() - timedelta(microseconds=1)
    return lambda: (key_retire(key=world.kz.key, at=at, user=world.alice), "retired")


def merchant_registered(world) -> Change:
    def change():
        merchant = merchant_register(
            authority=world.cl.authority, registration_number="CL-0099", legal_name="P\u00e9rez", user=world.alice
        )
        return merchant, "registered"

    return change


def merchant_changed(world) -> Change:
    def change():
        merchant = merchant_update(merchant=world.cl.merchant, legal_name="Andes", assurance="low", user=world.alice)
        return merchant, "details changed"

    return change


def merchant_suspended(world) -> Change:
    return lambda: (merchant_suspend(merchant=world.cl.merchant, user=world.alice), "status suspended")


def credential_type_created(world) -> Change:
    def change():
        kind = credential_type_create(code="food-safety", name="Food safety", description="HACCP\n", user=world.alice)
        return kind, "created"

    return change


def credential_issued(world) -> Change:
    def change():
        issued = credential_issue(
            merchant=world.cl.merchant,
            private_key=world.cl.private_key,
            credential_type=world.merchant_identity,
            user=world.alice,
        )
        return issued.credential, "issued"

    return change


def credential_revoked(world) -> Change:
    credential, _ = credential_issued(world)()
    return lambda: (credential_revoke(credential=credential, reason="fraud", user=world.alice), "revoked")


def agreement_created(world) -> Change:
    def change():
        agreement = agreement_create(
            destination="CN",
            authority=world.kz.authority,
            credential_types=[world.merchant_identity, world.export_licence],
            legal_basis="CN-KZ memorandum",
            valid_until=timezone.now() + timedelta(days=400),
            user=world.alice,
        )
        return agreement, "created"

    return change


def agreement_terms_changed(world) -> Change:
    def change():
        agreement = agreement_update_terms(
            agreement=world.cn_recognizes_cl,
            credential_types=[world.export_licence, world.merchant_identity],
            legal_basis="amended",
            user=world.root,
        )
        return agreement, "terms changed"

    return change


def agreement_activated(world) -> Change:
    agreement, _ = agreement_created(world)()
    return lambda: (agreement_activate(agreement=agreement, user=world.root), "status active")


# A country administrator's widening of trust is a proposal (accounts.proposals):
# these changes are made by the superuser, who applies them directly.
BY_THE_SUPERUSER = ("key_registered", "agreement_terms_changed", "agreement_activated")

CASES = {
    case.__name__: case
    for case in (
        authority_created, authority_changed, authority_suspended, key_registered, key_retired,
        merchant_registered, merchant_changed, merchant_suspended, credential_type_created, credential_issued,
        credential_revoked, agreement_created, agreement_terms_changed, agreement_activated,
    )
}  # fmt: skip


def entry_of_the_change(world, case: str) -> tuple[LogEntry, models.Model, str]:
    change = CASES[case](world)
    before = change_entries()
    instance, reason = change()
    return the_one_new_entry(before), instance, reason


@pytest.mark.parametrize("case", CASES)
def test_a_change_made_through_its_service_writes_one_change_entry_with_every_new_value(world, case):
    entry, instance, reason = entry_of_the_change(world, case)

    body = bytes(entry.body)
    fields = json.loads(body)
    record = instance.history.order_by("-history_id").first()  # the change's own history record
    assert fields == {
        "kind": "change",
        "id": str(entry.id),
        "created_at": stamp(record.history_date),
        "model": instance._meta.label_lower,
        "object_id": str(instance.pk),
        "history_id": record.history_id,
        "change_type": record.history_type,
        "values": values_of(instance),
        "user": "root" if case in BY_THE_SUPERUSER else "alice",
        "reason": reason,
    }
    assert body == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert bytes(entry.leaf_hash) == hashlib.sha256(b"\x00" + body).digest()
    assert (entry.kind, entry.seq, uuid.UUID(fields["id"]).version) == ("change", None, 4)
    assert record.history_type == ("+" if reason in ("created", "registered", "issued") else "~")


def test_countries_instants_and_the_agreement_version_credential_types_are_written_as_documented(world):
    entry, agreement, _ = entry_of_the_change(world, "agreement_terms_changed")
    values = json.loads(bytes(entry.body))["values"]
    assert (values["destination"], values["origin"]) == ("CN", "CL")
    assert values["credential_types"] == ["export-licence", "merchant-identity"]  # this version's, by code
    assert values["valid_until"] is None
    assert values["valid_from"] == agreement.valid_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert values["valid_from"].endswith("Z") and len(values["valid_from"]) == len("2026-01-02T03:04:05.000000Z")
    # The version before keeps its own types.
    earlier = [
        json.loads(bytes(row.body))
        for row in LogEntry.objects.filter(kind="change").exclude(id=entry.id)
        if json.loads(bytes(row.body))["object_id"] == str(agreement.pk)
        and json.loads(bytes(row.body))["model"] == "recognition.recognitionagreement"
    ]
    assert [version["values"]["credential_types"] for version in earlier] == [["merchant-identity"]]


def test_a_change_without_a_user_records_none_and_a_deletion_its_type(world):
    before = change_entries()
    kind = CredentialType.objects.create(code="temporary", name="Temporary")  # through the ORM: history still
    created = json.loads(bytes(the_one_new_entry(before).body))
    before = change_entries()
    pk = kind.pk
    kind.delete()
    deleted = json.loads(bytes(the_one_new_entry(before).body))
    assert (created["change_type"], created["user"], created["reason"]) == ("+", None, "")
    assert (deleted["change_type"], deleted["object_id"], deleted["values"]["code"]) == ("-", str(pk), "temporary")


class RolledBack(Exception):
    pass


@pytest.mark.parametrize("case", ["authority_changed", "agreement_created", "credential_issued"])
def test_a_change_rolled_back_leaves_no_entry(world, case):
    change = CASES[case](world)
    before = change_entries()
    with pytest.raises(RolledBack), transaction.atomic():
        change()
        assert len(change_entries()) == len(before) + 1
        raise RolledBack
    assert change_entries().keys() == before.keys()


TOO_LARGE = "x" * 70_000


def nothing_of_the_large_type() -> list[int]:
    return [
        CredentialType.objects.filter(code="large").count(),
        CredentialType.history.filter(code="large").count(),
        LogEntry.objects.filter(kind="change", body__contains=b'"large"').count(),
    ]


def save_a_type_too_large_for_the_log() -> None:
    """Through the ORM, past the service's validation (description is at
    most 10,000 characters there)."""
    CredentialType(code="large", name="Large", description=TOO_LARGE).save()


def test_a_change_too_large_for_the_log_is_refused_and_nothing_is_written(world):
    before = change_entries()
    with pytest.raises(ValidationError) as refused:
        save_a_type_too_large_for_the_log()
    (message,) = refused.value.messages
    assert message.startswith(f"a log entry is at most {MAX_ENTRY_BYTES} bytes; this change would be ")
    assert int(message.rsplit(" ", 1)[1]) > 70_000
    assert nothing_of_the_large_type() == [0, 0, 0]
    assert change_entries().keys() == before.keys()
    # The registry goes on: the next change is written as usual.
    CredentialType(code="small", name="Small", description="x" * 100).save()
    assert CredentialType.history.filter(code="small").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_change_too_large_for_the_log_is_refused_outside_any_transaction_too():
    """No transaction of the caller's: the row, its history record and its
    entry are still one transaction, refused together."""
    with pytest.raises(ValidationError, match=f"^\\['a log entry is at most {MAX_ENTRY_BYTES} bytes"):
        save_a_type_too_large_for_the_log()
    assert nothing_of_the_large_type() == [0, 0, 0]
