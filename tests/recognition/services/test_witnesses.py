"""Registering and retiring witnesses (DESIGN §11): the URL is https or
http on a loopback address, the vkey of type 0x04 and bearing the witness's
name; each change has its history record and its change entry in the log,
in the same transaction; a refused change writes nothing."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from recognition.log.notes import COSIGNATURE_V1, ED25519, vkey
from recognition.models import LogEntry, Witness
from recognition.services.witnesses import witness_add, witness_by_name, witness_retire

NAME = "witness.cl.test/w1"


def witness_vkey(name: str = NAME, sig_type: int = COSIGNATURE_V1) -> str:
    return vkey(name, Ed25519PrivateKey.generate().public_key().public_bytes_raw(), sig_type)


def add(**overrides: str) -> Witness:
    fields = {"name": NAME, "country": "CL", "url": "https://witness.cl.test", "vkey": witness_vkey()}
    return witness_add(**{**fields, **overrides})


def change_entries() -> list[dict]:
    return [json.loads(bytes(row.body)) for row in LogEntry.objects.filter(kind="change").order_by("created_at")]


@pytest.mark.parametrize(
    "url",
    ["https://witness.cl.test", "https://witness.cl.test:8443/w", "http://127.0.0.1:9000", "http://[::1]:9000",
     "http://localhost:9000"],
)  # fmt: skip
def test_accepts_https_or_http_on_a_loopback_address(db, url):
    assert add(url=url).url == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://witness.cl.test", "loopback"),
        ("http://10.0.0.5:9000", "loopback"),
        ("ftp://witness.cl.test", "https://host"),
        ("witness.cl.test", "https://host"),
        ("https://user:pw@witness.cl.test", "credentials"),
        ("https://witness.cl.test:port", "not a URL"),
    ],
)
def test_refuses_a_url_that_is_not_https_or_loopback_http(db, url, problem):
    with pytest.raises(ValidationError) as refused:
        add(url=url)
    assert problem in str(refused.value)
    assert not Witness.objects.exists() and not LogEntry.objects.exists()


def test_refuses_a_vkey_of_the_log_signature_type(db):
    with pytest.raises(ValidationError, match="type 0x04"):
        add(vkey=witness_vkey(sig_type=ED25519))
    assert not Witness.objects.exists()


def test_refuses_a_vkey_of_another_name(db):
    with pytest.raises(ValidationError, match="the name is the vkey's key name"):
        add(vkey=witness_vkey("witness.cl.test/other"))


def test_refuses_what_is_not_a_vkey(db):
    with pytest.raises(ValidationError, match="not a signed-note vkey"):
        add(vkey="witness.cl.test/w1+00000000+AAAA")


def test_refuses_a_second_witness_of_the_same_name(db):
    add()
    with pytest.raises(ValidationError, match="registered already"):
        add(url="https://other.cl.test")
    assert Witness.objects.count() == 1


def test_the_database_refuses_a_duplicate_name_and_a_url_without_scheme(db):
    witness = add()
    with pytest.raises(IntegrityError), transaction.atomic():
        Witness.objects.create(name=NAME, country="CL", url="https://x.test", vkey=witness.vkey)
    with pytest.raises(IntegrityError), transaction.atomic():
        Witness.objects.create(name="other", country="CL", url="gopher://x.test", vkey=witness.vkey)


def test_registering_writes_history_and_a_change_entry_in_the_same_transaction(db, world):
    before = LogEntry.objects.filter(kind="change").count()
    witness = add()
    assert [h.history_type for h in witness.history.all()] == ["+"]
    entries = change_entries()[before:]
    assert len(entries) == 1
    assert entries[0]["model"] == "recognition.witness" and entries[0]["change_type"] == "+"
    assert entries[0]["values"]["vkey"] == witness.vkey and entries[0]["values"]["retired_at"] is None


def test_a_change_rolled_back_leaves_no_row_no_history_and_no_entry(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        add()
        raise RuntimeError("the caller's transaction fails after the change")
    assert not Witness.objects.exists() and not Witness.history.exists() and not LogEntry.objects.exists()


def test_retiring_sets_retired_at_with_history_and_a_change_entry(db):
    witness = add()
    retired = witness_retire(witness=witness)
    assert retired.retired_at is not None and not retired.active
    assert not Witness.objects.active().exists()
    assert [h.history_type for h in witness.history.order_by("history_date")] == ["+", "~"]
    last = change_entries()[-1]
    assert last["change_type"] == "~" and last["values"]["retired_at"] is not None


def test_retiring_twice_or_an_unknown_name_is_refused(db):
    witness_retire(witness=add())
    with pytest.raises(ValidationError, match="retired already"):
        witness_retire(witness=witness_by_name(NAME))
    with pytest.raises(ValidationError, match="no witness is named"):
        witness_by_name("nobody")
