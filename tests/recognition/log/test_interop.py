"""The log as served, checked by implementations we did not write: Go's
golang.org/x/mod/sumdb/tlog (go/tlogcheck) and golang.org/x/mod/sumdb/note
(go/notecheck, also used by test_notes.py).

A real log is made through the API (verifications one by one and in batches,
registry changes, four checkpoints, past two full tiles); then everything a
verifier needs is downloaded through the API into a directory, as a client
of the log would: the key, every checkpoint, every tile path each checkpoint
needs, the entry bundles, inclusion and consistency proofs. Go then checks
each checkpoint's signature, each tree's root from the tiles, the proofs,
and that every entry's bytes are the leaf the signed tree holds.

Skipped, naming what is missing, without Go and the x/mod sources (Debian:
golang-golang-x-mod-dev); with REQUIRE_GO=1 they fail instead."""

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from identity.services.merchants import merchant_register, merchant_suspend
from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.services.agreements import agreement_update_terms
from tests.recognition.log.golang import build_go_program, require_go
from tests.support.api import BATCH_URL, Api, keyed
from tests.support.log_api import LOG, b64decode, entry_bundle, latest, proof_of, tiles_of, vkeys
from tests.support.tokens import sign

GO = Path(__file__).parent / "go"


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory) -> Path:
    require_go()
    return build_go_program(GO / "tlogcheck", tmp_path_factory.mktemp("go") / "tlogcheck")


@pytest.fixture(scope="module")
def notecheck(tmp_path_factory) -> Path:
    require_go()
    return build_go_program(GO / "notecheck", tmp_path_factory.mktemp("go") / "notecheck")


@dataclass
class Downloaded:
    directory: Path  # tiles, under tile/...
    vkey: str
    notes: dict[int, str]  # checkpointed size -> its signed note
    requests: list[dict]  # tlogcheck's input


def made_through_the_api(world, settings) -> dict[int, str]:
    """A log grown through the API in four checkpoints; each checkpoint as
    `GET checkpoint` served it after each round, as a monitor polling the log
    would have kept them."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    api = Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])
    seen = {}

    def integrate_and_poll() -> None:
        integrate_all()
        note, size, _ = latest()
        seen[size] = note

    integrate_and_poll()  # the shared actors' registry changes
    for actor, destination in [(world.cl, "CN"), (world.kz, "CN"), (world.cn, "CN"), (world.cl, "KZ")]:
        assert api.verify(sign(actor), destination).status_code == 200
    integrate_and_poll()
    merchant = merchant_register(
        authority=world.cl.authority, registration_number="CL-0002", legal_name="Segunda SpA", assurance="low"
    )
    agreement_update_terms(
        agreement=world.cn_recognizes_cl,
        credential_types=[world.merchant_identity, world.export_licence],
        legal_basis="CN-CL e-commerce cooperation memorandum (2016), amended",
    )
    for round in range(6):
        items = [{"token": sign(world.cl), "destination": "CN"} for _ in range(99)]
        items.append({"token": f"not a token {round}", "destination": "CL"})
        assert api.post(BATCH_URL, {"items": items}).status_code == 200
        if round == 2:
            merchant_suspend(merchant=merchant)
            integrate_and_poll()
    integrate_and_poll()
    assert len(seen) == 4 and max(seen) > 2 * tree.TILE_WIDTH and max(seen) % tree.TILE_WIDTH
    return seen


def download(directory: Path, regulator: APIClient, notes: dict[int, str]) -> Downloaded:
    """Everything else through the API: the key, every tile path each
    checkpointed size needs, the entry bundles (a regulator's), proofs."""
    vkey, size = vkeys()[0], max(notes)
    for checkpoint_size in notes:
        for level, index, width in tiles_of(checkpoint_size):
            path = tree.tile_path(level, index, width)
            response = APIClient().get(f"{LOG}{path}")
            assert response.status_code == 200, path
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_bytes(response.content)
    entries = []
    for level, index, width in tiles_of(size):
        if level == 0:
            bundle = regulator.get(f"{LOG}{tree.tile_path('entries', index, width)}")
            assert bundle.status_code == 200
            entries += [body.decode("utf-8") for body in entry_bundle(bundle.content)]
    assert len(entries) == size
    requests = []
    for second in sorted(notes):
        inclusion = []
        for seq in sorted({0, 1, second // 2, second - 1, *(first - 1 for first in notes if first <= second)}):
            proof = proof_of(regulator, json.loads(entries[seq])["id"], second)
            assert (proof["seq"], proof["checkpoint"], proof["entry"]) == (seq, notes[second], entries[seq])
            inclusion.append(
                {
                    "index": seq,
                    "leaf_hash": b64decode(proof["leaf_hash"]).hex(),
                    "proof": [b64decode(h).hex() for h in proof["inclusion"]],
                    "entry": proof["entry"],
                }
            )
        consistency = []
        for first in sorted(size for size in notes if size <= second):
            answer = APIClient().get(f"{LOG}consistency?first={first}&second={second}")
            assert answer.status_code == 200
            consistency.append(
                {
                    "first": first,
                    "second": second,
                    "first_root": root_of_note(notes[first]).hex(),
                    "proof": [b64decode(h).hex() for h in answer.json()["proof"]],
                }
            )
        requests.append(
            {
                "size": second,
                "root": root_of_note(notes[second]).hex(),
                "inclusion": inclusion,
                "consistency": consistency,
                "records": [{"index": n, "entry": entries[n]} for n in range(second)],
            }
        )
    return Downloaded(directory, vkey, notes, requests)


def root_of_note(note: str) -> bytes:
    return base64.b64decode(note.split("\n")[2], validate=True)


def run(program: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([program, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def go_checks(tlogcheck: Path, downloaded: Downloaded, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    requests = tmp_path / "requests.json"
    requests.write_text(json.dumps(downloaded.requests))
    return run(tlogcheck, downloaded.directory, requests)


@pytest.fixture
def downloaded(world, settings, tmp_path) -> Downloaded:
    notes = made_through_the_api(world, settings)
    regulator = keyed(api_key_create(name="market-regulator", role="regulator")[1])
    return download(tmp_path / "log", regulator, notes)


def test_go_sumdb_note_verifies_every_checkpoint_the_api_serves(notecheck, downloaded, tmp_path, settings):
    origin = settings.AUDIT_LOG["ORIGIN"]
    for size, note in downloaded.notes.items():
        path = tmp_path / f"checkpoint-{size}"
        path.write_text(note, encoding="utf-8")
        checked = run(notecheck, "verify", path, downloaded.vkey)
        assert (checked.returncode, checked.stdout, checked.stderr) == (0, f"{origin}\n", ""), size
        assert note.split("\n")[:2] == [origin, str(size)]

    forged = downloaded.notes[max(downloaded.notes)].replace(f"\n{max(downloaded.notes)}\n", "\n1\n", 1)
    path = tmp_path / "forged"
    path.write_text(forged, encoding="utf-8")
    refused = run(notecheck, "verify", path, downloaded.vkey)
    assert refused.returncode == 1 and f"invalid signature for key {origin}+" in refused.stderr


def test_go_sumdb_tlog_agrees_with_the_served_tiles_roots_proofs_and_entries(tlogcheck, downloaded, tmp_path):
    checked = go_checks(tlogcheck, downloaded, tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    expected = sum(2 + len(request["inclusion"]) + len(request["consistency"]) for request in downloaded.requests)
    assert len(lines) == expected and all(line.startswith("ok   ") for line in lines), checked.stdout
    size = max(downloaded.notes)
    assert f"ok   tree {size} root {root_of_note(downloaded.notes[size]).hex()}" in checked.stdout
    assert f"ok   {size} records in {size}: tlog.RecordHash" in checked.stdout


def test_go_sumdb_tlog_refuses_a_tampered_tile_or_entry(tlogcheck, downloaded, tmp_path):
    latest_request = downloaded.requests[-1]
    size = latest_request["size"]
    partial = downloaded.directory / tree.tile_path(0, size // tree.TILE_WIDTH, size % tree.TILE_WIDTH)
    original = partial.read_bytes()
    partial.write_bytes(original[:5] + bytes([original[5] ^ 1]) + original[6:])
    refused = go_checks(tlogcheck, Downloaded(downloaded.directory, "", {}, [latest_request]), tmp_path)
    assert refused.returncode == 1 and f"FAIL tree {size}" in refused.stdout
    partial.write_bytes(original)

    records = [dict(record) for record in latest_request["records"]]
    records[300]["entry"] = records[300]["entry"].replace('"kind"', '"kind" ', 1)
    request = {**latest_request, "inclusion": [], "consistency": [], "records": records}
    refused = go_checks(tlogcheck, Downloaded(downloaded.directory, "", {}, [request]), tmp_path)
    assert refused.returncode == 1 and f"FAIL {size} records in {size}: " in refused.stdout
    assert "record 300: RecordHash is" in refused.stdout

    inclusion = dict(latest_request["inclusion"][-1])
    inclusion["entry"] = inclusion["entry"] + " "
    request = {**latest_request, "inclusion": [inclusion], "consistency": [], "records": []}
    refused = go_checks(tlogcheck, Downloaded(downloaded.directory, "", {}, [request]), tmp_path)
    assert refused.returncode == 1 and "RecordHash of the entry is" in refused.stdout
