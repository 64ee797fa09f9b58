"""AUDIT_WITNESS_QUORUM (DESIGN §11): GET checkpoint serves the latest
checkpoint cosigned by at least that many distinct active witnesses, the
log's line first and the cosignatures after it, a valid signed note for the
log's and the witnesses' keys; 503 no_cosigned_checkpoint while there is
none; proofs without a size are for it. Retired witnesses neither count
nor are served."""

import pytest
from rest_framework.test import APIClient

from recognition.log.keys import log_key
from recognition.log.notes import parse_vkey, split_note, verify_note
from recognition.log.pusher import push_latest
from recognition.log.witnesses import active_vkeys
from recognition.models import Checkpoint, Witness
from recognition.services.witnesses import witness_add, witness_retire
from tests.support.log_api import LOG, grow
from tests.support.witness import Misbehaviour


@pytest.fixture
def two_witnesses(db, start_test_witness):
    running = [start_test_witness("witness.cl.test/w1"), start_test_witness("witness.kz.test/w2")]
    for one, country in zip(running, ("CL", "KZ"), strict=True):
        witness_add(name=one.witness.name, country=country, url=one.url, vkey=one.witness.vkey)
    return running


def served() -> tuple[int, str]:
    response = APIClient().get(f"{LOG}checkpoint")
    return response.status_code, response.content.decode()


def signers(note: str) -> list[str]:
    verifiers = [parse_vkey(log_key().vkey)] + [parse_vkey(v) for v in active_vkeys()]
    _, verified = verify_note(note, verifiers)
    return [verifier.name for verifier in verified]


def with_quorum(settings, quorum: int) -> None:
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "WITNESS_QUORUM": quorum}


def test_quorum_0_serves_the_latest_checkpoint_with_its_cosignatures_after_the_logs_line(settings, two_witnesses):
    size = grow(settings, decisions=2)
    push_latest()
    status, note = served()
    assert status == 200
    assert note.startswith(Checkpoint.objects.get(size=size).note)
    assert signers(note) == [log_key().name, "witness.cl.test/w1", "witness.kz.test/w2"]


def test_quorum_0_serves_a_checkpoint_no_witness_cosigned(settings, two_witnesses):
    size = grow(settings, decisions=2)
    assert served() == (200, Checkpoint.objects.get(size=size).note)


def test_quorum_1_serves_the_latest_checkpoint_one_witness_cosigned_and_proofs_default_to_it(settings, two_witnesses):
    with_quorum(settings, 1)
    cosigned = grow(settings, decisions=2)
    push_latest()
    two_witnesses[0].witness.misbehave = two_witnesses[1].witness.misbehave = Misbehaviour(status=503)
    latest = grow(settings, decisions=3)
    push_latest()

    status, note = served()
    assert status == 200 and latest > cosigned
    assert split_note(note)[0] == split_note(Checkpoint.objects.get(size=cosigned).note)[0]
    response = APIClient().get(f"{LOG}consistency?first=1&second={latest}")
    assert response.status_code == 400 and f"<= {cosigned}" in response.json()["detail"]
    assert APIClient().get(f"{LOG}consistency?first=1&second={cosigned}").status_code == 200


def test_quorum_2_needs_two_distinct_active_witnesses(settings, two_witnesses):
    with_quorum(settings, 2)
    two_witnesses[1].witness.misbehave = Misbehaviour(status=500)
    grow(settings, decisions=1)
    push_latest()
    status, body = served()
    assert status == 503 and '"error":"no_cosigned_checkpoint"' in body.replace(" ", "")

    two_witnesses[1].witness.misbehave = Misbehaviour()
    size = grow(settings, decisions=1)
    push_latest()
    status, note = served()
    assert status == 200 and split_note(note)[0] == split_note(Checkpoint.objects.get(size=size).note)[0]
    assert signers(note) == [log_key().name, "witness.cl.test/w1", "witness.kz.test/w2"]


def test_503_while_no_checkpoint_reached_the_quorum(settings, db):
    with_quorum(settings, 1)
    grow(settings, decisions=1)
    response = APIClient().get(f"{LOG}checkpoint")
    assert response.status_code == 503
    assert response.json()["error"] == "no_cosigned_checkpoint"


def test_a_retired_witness_neither_counts_nor_is_served(settings, two_witnesses):
    size = grow(settings, decisions=1)
    push_latest()
    witness_retire(witness=Witness.objects.get(name="witness.kz.test/w2"))
    # The retirement is itself a change entry: a new checkpoint, which only w1 may cosign.
    with_quorum(settings, 2)
    assert served()[0] == 503
    with_quorum(settings, 1)
    status, note = served()
    assert status == 200 and "witness.kz.test/w2" not in note
    assert signers(note) == [log_key().name, "witness.cl.test/w1"]
    assert split_note(note)[0] == split_note(Checkpoint.objects.get(size=size).note)[0]


def test_a_cosigned_checkpoint_older_than_the_recent_cosignatures_is_still_found(settings, two_witnesses, monkeypatch):
    from recognition.log import proofs

    with_quorum(settings, 2)
    cosigned = grow(settings, decisions=1)
    push_latest()
    two_witnesses[1].witness.misbehave = Misbehaviour(status=500)
    for _ in range(3):  # three newer checkpoints, each cosigned by w1 alone
        grow(settings, decisions=1)
        push_latest()
    monkeypatch.setattr(proofs, "_RECENT_COSIGNATURES", 2)  # the recent window holds none that reached 2

    status, note = served()
    assert status == 200 and split_note(note)[0] == split_note(Checkpoint.objects.get(size=cosigned).note)[0]
    assert signers(note) == [log_key().name, "witness.cl.test/w1", "witness.kz.test/w2"]
