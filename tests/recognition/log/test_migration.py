"""Migration 0010 turns the audit chain into the transparency log (DESIGN §6:
"rows written before the log existed become its first leaves, in their old
order; nothing is lost"). A database of the state just before it gets chain
rows with correct chain hashes (the chain's formula as it was, written out
again here) and history records of the registry's rules; after the
migration every chain row is a decision entry at its old place, every
history record a change entry after them, and the log checks intact."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from identity.models import CredentialType
from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.log.integrity import check_log
from recognition.models import LogEntry, LogState, Verification

BEFORE_THE_LOG = [("recognition", "0009_api_keys_and_roles_moved_to_accounts"), ("identity", "0001_initial_identity")]
T = datetime(2025, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)
GENESIS = "0" * 64
CHAIN_FIELDS = (
    "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti", "token_sha256",
    "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def apps_at(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    nodes = {app: name for app, name in executor.loader.graph.leaf_nodes()}
    nodes.update(dict(targets))
    return executor.loader.project_state(list(nodes.items())).apps


def canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(prev_hash: str, row: dict) -> str:
    """The audit chain's hash before the log (git show aa68f76:recognition/
    services/audit.py): SHA-256(prev_hash as ASCII hex || the canonical JSON
    of every field of the row but prev_hash and hash)."""
    fields = {name: row[name] for name in CHAIN_FIELDS}
    fields.update(id=str(row["id"]), seq=row["seq"], created_at=stamp(row["created_at"]))
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(fields)).hexdigest()


def history(apps, label: str, row, *, at: datetime, kind: str = "+", user=None, reason: str | None = None):
    """A simple-history record of `row` as it stands, written as the
    registry's services wrote them."""
    model = apps.get_model(label)
    History = apps.get_model(model._meta.app_label, f"Historical{model.__name__}")
    values = {field.attname: getattr(row, field.attname) for field in model._meta.concrete_fields}
    return History.objects.create(
        **values, history_date=at, history_type=kind, history_user=user, history_change_reason=reason
    )


def fill_the_chain_and_the_history(apps) -> dict:
    """Three decisions chained as the old code chained them, and history
    records of an authority, a key, a merchant, a credential and two
    versions of an agreement; what was written."""
    User = apps.get_model("auth", "User")
    alice = User.objects.create(username="alice", password="!")
    Authority = apps.get_model("identity", "Authority")
    authority = Authority.objects.create(
        country="CL", name="Registro", issuer="https://registro.test/issuer", status="active", max_assurance="high"
    )
    Authority.objects.filter(id=authority.id).update(created_at=T, updated_at=T)
    authority.refresh_from_db()
    key = apps.get_model("identity", "AuthorityKey").objects.create(
        authority=authority,
        kid="cl-1",
        alg="EdDSA",
        public_jwk={"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        status="active",
        not_before=T,
    )
    merchant = apps.get_model("identity", "Merchant").objects.create(
        authority=authority, registration_number="CL-1", legal_name="Andes SpA — Pérez", status="active"
    )
    CredentialTypeThen = apps.get_model("identity", "CredentialType")
    identity = CredentialTypeThen.objects.create(code="merchant-identity", name="Identity", description="who")
    export = CredentialTypeThen.objects.create(code="export-licence", name="Export")
    credential = apps.get_model("identity", "IssuedCredential").objects.create(
        jti="j-1",
        merchant=merchant,
        key=key,
        credential_type=identity,
        assurance="high",
        issued_at=T,
        expires_at=T + timedelta(days=30),
    )
    Agreement = apps.get_model("recognition", "RecognitionAgreement")
    agreement = Agreement.objects.create(
        destination="CN", authority=authority, origin="CL", valid_from=T, status="draft", legal_basis="MoU"
    )
    agreement.credential_types.set([identity])
    records = {
        "authority": history(apps, "identity.Authority", authority, at=T + timedelta(seconds=1), user=alice),
        "key": history(apps, "identity.AuthorityKey", key, at=T + timedelta(seconds=2), reason="registered"),
        "merchant": history(apps, "identity.Merchant", merchant, at=T + timedelta(seconds=3)),
        "credential": history(apps, "identity.IssuedCredential", credential, at=T + timedelta(seconds=4)),
        "agreement created": history(apps, "recognition.RecognitionAgreement", agreement, at=T + timedelta(seconds=5)),
    }
    M2M = apps.get_model("recognition", "HistoricalRecognitionAgreement_credential_types")
    through = agreement.credential_types.through.objects
    M2M.objects.create(
        id=through.get(credentialtype=identity).id,
        history=records["agreement created"],
        recognitionagreement=agreement,
        credentialtype=identity,
    )
    agreement.status = "active"
    agreement.save()
    agreement.credential_types.set([identity, export])
    records["agreement activated"] = history(
        apps, "recognition.RecognitionAgreement", agreement, at=T + timedelta(seconds=6), kind="~", reason="status"
    )
    for kind in (export, identity):  # stored in the other order than their codes
        M2M.objects.create(
            id=through.get(credentialtype=kind).id,
            history=records["agreement activated"],
            recognitionagreement=agreement,
            credentialtype=kind,
        )

    rows, prev_hash = [], GENESIS
    plain = dict(
        client="platform-1", destination="CN", origin="CL", declared_origin="CL", issuer=authority.issuer,
        kid="cl-1", subject="CL-1", jti="j-1", token_sha256="ab" * 32, decision="accepted", reasons=[],
        agreement_id=agreement.id, agreement_version=records["agreement activated"].history_id,
    )  # fmt: skip
    for seq, overrides in enumerate(
        [
            {},
            {
                "decision": "rejected",
                "reasons": ["expired", "no_agreement"],
                "agreement_id": None,
                "agreement_version": None,
                "subject": "Pérez-商户",
            },
            {"client": "c" * 150, "origin": "", "declared_origin": "", "issuer": "", "kid": "", "jti": ""},
        ],  # fmt: skip
        start=1,
    ):
        row = {**plain, **overrides, "id": uuid.uuid4(), "seq": seq, "created_at": T + timedelta(minutes=seq)}
        row["prev_hash"], row["hash"] = prev_hash, chain_hash(prev_hash, row)
        prev_hash = row["hash"]
        apps.get_model("recognition", "Verification").objects.create(**row)
        rows.append(row)
    return {"rows": rows, "records": records, "agreement": agreement.id, "authority": authority, "key": key}


@pytest.fixture
def before_the_log():
    """The database migrated to just before 0010 for the test, and back to
    the head after it, whatever happened."""
    migrate(BEFORE_THE_LOG)
    try:
        yield apps_at(BEFORE_THE_LOG)
    finally:
        migrate(head())


def verification_rows() -> dict[uuid.UUID, dict]:
    return {row["id"]: row for row in Verification.objects.values()}


def test_the_chain_rows_become_the_first_leaves_in_their_old_order(before_the_log):
    written = fill_the_chain_and_the_history(before_the_log)
    migrate(head())

    for row in written["rows"]:
        entry = LogEntry.objects.get(id=row["id"])
        fields = {name: row[name] for name in CHAIN_FIELDS}
        fields.update(
            kind="decision",
            id=str(row["id"]),
            created_at=stamp(row["created_at"]),
            legacy_chain={"seq": row["seq"], "prev_hash": row["prev_hash"], "hash": row["hash"]},
        )
        assert (entry.kind, entry.seq, entry.created_at) == ("decision", row["seq"] - 1, row["created_at"])
        assert bytes(entry.body) == canonical(fields)
        assert bytes(entry.leaf_hash) == hashlib.sha256(b"\x00" + canonical(fields)).digest()
    # The chain's own link is kept: the old hash recomputed from the entry.
    second = json.loads(bytes(LogEntry.objects.get(seq=1).body))
    assert second["legacy_chain"]["prev_hash"] == written["rows"][0]["hash"]
    assert chain_hash(second["legacy_chain"]["prev_hash"], {**written["rows"][1]}) == second["legacy_chain"]["hash"]

    # The rows lost the chain's columns and nothing else.
    kept = {
        row["id"]: {name: value for name, value in row.items() if name not in ("seq", "prev_hash", "hash")}
        for row in written["rows"]
    }
    assert verification_rows() == kept


def change_of(record) -> dict:  # noqa: ANN001 (a historical record of the old state)
    (entry,) = [
        json.loads(bytes(body))
        for body in LogEntry.objects.filter(kind="change").values_list("body", flat=True)
        if json.loads(bytes(body))["history_id"] == record.history_id
        and json.loads(bytes(body))["model"].endswith(type(record).__name__.removeprefix("Historical").lower())
    ]
    return entry


def test_every_history_record_becomes_a_change_entry_after_the_decisions(before_the_log):
    written = fill_the_chain_and_the_history(before_the_log)
    migrate(head())

    records, authority, key = written["records"], written["authority"], written["key"]
    changes = LogEntry.objects.filter(kind="change")
    assert changes.count() == len(records) + 2  # and the first versions of the two credential types
    for change in changes:
        assert change.seq is None  # the integrator numbers them, after the decisions
        assert bytes(change.leaf_hash) == tree.leaf_hash(bytes(change.body))
        assert bytes(change.body) == canonical(json.loads(bytes(change.body)))

    created = change_of(records["authority"])
    assert created == {
        "kind": "change",
        "id": created["id"],
        "created_at": stamp(T + timedelta(seconds=1)),
        "model": "identity.authority",
        "object_id": str(authority.id),
        "history_id": records["authority"].history_id,
        "change_type": "+",
        "values": {
            "id": authority.id,
            "country": "CL",
            "name": "Registro",
            "issuer": "https://registro.test/issuer",
            "status": "active",
            "max_assurance": "high",
            "created_at": stamp(T),
            "updated_at": stamp(T),
        },
        "user": "alice",
        "reason": "",
    }
    assert uuid.UUID(created["id"]).version == 4
    registered = change_of(records["key"])
    assert (registered["model"], registered["reason"], registered["user"]) == (
        "identity.authoritykey",
        "registered",
        None,
    )
    assert registered["values"]["authority_id"] == authority.id
    assert registered["values"]["public_jwk"] == key.public_jwk
    assert (registered["values"]["not_before"], registered["values"]["not_after"]) == (stamp(T), None)
    assert change_of(records["merchant"])["values"]["legal_name"] == "Andes SpA — Pérez"
    assert change_of(records["credential"])["values"]["expires_at"] == stamp(T + timedelta(days=30))
    # Each agreement version with the credential types of that version, by code.
    assert change_of(records["agreement created"])["values"]["credential_types"] == ["merchant-identity"]
    activated = change_of(records["agreement activated"])
    assert activated["values"]["credential_types"] == ["export-licence", "merchant-identity"]
    assert (activated["change_type"], activated["reason"], activated["values"]["status"]) == ("~", "status", "active")

    # Credential types had no history: each got its first version, and its entry.
    for kind in CredentialType.objects.all():
        (first,) = kind.history.all()
        assert (first.history_type, first.history_change_reason) == ("+", "history begins")
        entry = change_of(first)
        assert entry["values"] == {"id": kind.id, "code": kind.code, "name": kind.name, "description": kind.description}


def test_after_integration_the_log_holds_the_old_order_then_the_changes_in_time_order(before_the_log):
    written = fill_the_chain_and_the_history(before_the_log)
    migrate(head())

    done = integrate_all()

    entries = list(LogEntry.objects.order_by("seq"))
    assert [entry.seq for entry in entries] == list(range(len(entries))) and done.size == len(entries)
    assert LogEntry.objects.filter(seq__isnull=True).count() == 0
    assert [entry.id for entry in entries[:3]] == [row["id"] for row in written["rows"]]
    assert {entry.kind for entry in entries[3:]} == {"change"}
    assert [entry.created_at for entry in entries[3:]] == sorted(entry.created_at for entry in entries[3:])
    leaves = [bytes(entry.leaf_hash) for entry in entries]
    report = check_log()
    assert (report.intact, report.size, report.root, report.first_bad_seq) == (
        True,
        len(leaves),
        tree.root_of(leaves),
        None,
    )


def test_a_gap_in_the_migrated_leaves_is_refused_naming_it(before_the_log):
    written = fill_the_chain_and_the_history(before_the_log)
    Verification = before_the_log.get_model("recognition", "Verification")
    with connection.cursor() as cursor:  # the chain lost its second row (the old trigger lifted)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE recognition_verification DISABLE TRIGGER recognition_verification_append_only")
        cursor.execute("DELETE FROM recognition_verification WHERE seq = 2")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE recognition_verification ENABLE TRIGGER recognition_verification_append_only")
    assert Verification.objects.count() == len(written["rows"]) - 1
    migrate(head())

    with pytest.raises(RuntimeError, match="^the log has a gap: leaf 1 is missing before leaf 2$"):
        integrate_all()
    assert sorted(LogEntry.objects.filter(seq__isnull=False).values_list("seq", flat=True)) == [0, 2]
    assert LogState.objects.get().size == 0  # nothing placed


def test_migrating_back_is_refused_once_decisions_exist(before_the_log):
    fill_the_chain_and_the_history(before_the_log)
    migrate(head())
    entries = sorted(LogEntry.objects.values_list("id", "body"))

    with pytest.raises(RuntimeError, match="cannot be reversed once decisions are recorded"):
        migrate(BEFORE_THE_LOG)

    assert sorted(LogEntry.objects.values_list("id", "body")) == entries
    assert Verification.objects.count() == 3


def test_migrating_back_and_forth_without_decisions_keeps_the_history_as_changes(before_the_log):
    authority = before_the_log.get_model("identity", "Authority").objects.create(
        country="KZ", name="Egov", issuer="https://egov.test/issuer", status="active", max_assurance="low"
    )
    history(before_the_log, "identity.Authority", authority, at=T)
    migrate(head())
    assert LogEntry.objects.filter(kind="change").count() == 1

    migrate(BEFORE_THE_LOG)
    migrate(head())

    (entry,) = LogEntry.objects.all()
    assert json.loads(bytes(entry.body))["values"]["issuer"] == "https://egov.test/issuer"
