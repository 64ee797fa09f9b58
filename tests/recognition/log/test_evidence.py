"""The check of a dispute's evidence (recognition/log/evidence.py, DESIGN
§11), on real documents served by the API, cosigned by real witnesses: it
holds with the keys a court trusts and says in one paragraph what it proves;
it refuses another log's key and names a required witness that did not
cosign; and any altered byte, missing member, wrong type, non-JSON or
oversized file fails with a line naming what no longer holds, never an
exception. The check is pure: importing it loads no Django."""

import base64
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.evidence import check
from recognition.log.evidence_format import MAX_DOCUMENT_BYTES
from recognition.log.keys import log_key
from recognition.log.notes import vkey
from recognition.models import LogEntry, Verification
from tests.support.api import Api, keyed
from tests.support.evidence import as_file, cosigned_by, decided, evidence_of, witness
from tests.support.tokens import sign

RULED = ("decision", "agreement", "authority", "key")
PROVEN = ("id", "seq", "leaf_hash", "entry", "inclusion")
CN_WITNESS, CL_WITNESS = witness("cn-regulator-witness"), witness("cl-regulator-witness")


@pytest.fixture
def platform(world) -> Api:
    return Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])


@pytest.fixture
def document(world, platform, settings, monkeypatch) -> dict:
    """The evidence of an accepted decision (China recognizing Chile's
    credential), cosigned by both witnesses."""
    cosigned_by(monkeypatch, [CN_WITNESS, CL_WITNESS])
    return evidence_of(keyed(platform.key), decided(platform, settings, sign(world.cl)))


def trusted(document: bytes, **keys) -> list[str]:
    return check(
        document,
        log_keys=keys.get("log", [log_key().vkey]),
        witness_keys=keys.get("witnesses", [CN_WITNESS.vkey, CL_WITNESS.vkey]),
    ).failures


def test_evidence_holds_with_the_keys_a_court_trusts_and_says_what_it_proves(world, document):
    outcome = check(as_file(document), log_keys=[log_key().vkey], witness_keys=[CN_WITNESS.vkey, CL_WITNESS.vkey])
    assert outcome.failures == []
    row = Verification.objects.get(id=document["decision"]["id"])
    decision = LogEntry.objects.get(id=row.id)
    said = outcome.paragraph
    assert "\n" not in said
    for fact in [
        f"decision {row.id}: accepted (reasons: none)",
        f"at {json.loads(bytes(decision.body))['created_at']}",
        "for destination CN and origin CL",
        f"agreement {world.cn_recognizes_cl.id} version {row.agreement_version}",
        f"key {world.cl.key.kid}",
        f"issuer {world.cl.authority.issuer}",
        f"The decision is leaf {decision.seq} of the tree of size {document['checkpoint'].splitlines()[1]} ",
        f"signed by the log key {'+'.join(log_key().vkey.split('+')[:2])};",  # name+key ID: its base64 may hold '+'
        "Cosigned by the witnesses cn-regulator-witness, cl-regulator-witness.",
    ]:
        assert fact in said, fact
    assert "weaker" not in said and "taken from the evidence file" not in said


def test_without_keys_given_the_paragraph_says_they_came_from_the_file(document):
    outcome = check(as_file(document))
    assert outcome.failures == []
    assert "(taken from the evidence file itself, not given: weaker)" in outcome.paragraph
    assert "(their keys taken from the evidence file itself)" in outcome.paragraph


def test_a_required_witness_that_did_not_cosign_is_named(document):
    absent = witness("kz-regulator-witness")
    failures = trusted(as_file(document), witnesses=[CN_WITNESS.vkey, absent.vkey])
    assert failures == ["the witness kz-regulator-witness (given with --witness-key) did not cosign the checkpoint"]


def test_a_log_key_that_did_not_sign_the_checkpoint_is_refused(document):
    imposter = vkey(log_key().name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    failures = trusted(as_file(document), log=[imposter])
    assert any("is not among the document's log vkeys" in failure for failure in failures)
    assert any("checkpoint" in failure for failure in failures)
    assert check(as_file(document), log_keys=["not a vkey"]).failures[0].startswith("the --log-key 'not a vkey'")


def test_a_checkpoint_no_witness_cosigned_says_so(world, platform, settings, monkeypatch):
    cosigned_by(monkeypatch, [], in_service=[CN_WITNESS])
    document = evidence_of(keyed(platform.key), decided(platform, settings, sign(world.cl)))
    outcome = check(as_file(document), log_keys=[log_key().vkey])
    assert outcome.failures == []
    assert "No witness cosigned the checkpoint." in outcome.paragraph
    assert "Listed but not cosigning: cn-regulator-witness." in outcome.paragraph
    assert trusted(as_file(document), witnesses=[CN_WITNESS.vkey]) == [
        "the witness cn-regulator-witness (given with --witness-key) did not cosign the checkpoint"
    ]


# Any altered byte ----------------------------------------------------------------------------------

NAMES = {
    "format": "format",
    "decision": "decision entry",
    "agreement": "agreement change entry",
    "authority": "authority change entry",
    "key": "key change entry",
    "receipt": "receipt",
    "absent": "absence",
    "checkpoint": "checkpoint",
    "log_vkeys": "log vkey",
    "witness_vkeys": "witness vkey",
}


def leaves(value, path=()):
    """(path, value) of every string and integer of a JSON value."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from leaves(inner, (*path, name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from leaves(inner, (*path, index))
    elif isinstance(value, str | int):
        yield path, value


def replaced(document: dict, path: tuple, value) -> dict:
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


def removed(document: dict, path: tuple) -> dict:
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    del holder[path[-1]]
    return copy


def fails_naming(document: dict, path: tuple) -> None:
    failures = trusted(as_file(document))
    name = NAMES[path[0]]
    assert failures, f"{path}: the altered document passed"
    assert any(name in failure for failure in failures), (path, failures)


def other(character: str) -> str:
    return "B" if character == "A" else "A"


def test_every_altered_character_of_every_string_fails_naming_it(document):
    checked = 0
    for path, value in leaves(document):
        if isinstance(value, int):
            for changed in (value + 1, value - 1):
                fails_naming(replaced(document, path, changed), path)
            continue
        for position in range(len(value)):
            altered = value[:position] + other(value[position]) + value[position + 1 :]
            fails_naming(replaced(document, path, altered), path)
            checked += 1
        fails_naming(replaced(document, path, value + "A"), path)
    assert checked > 3000  # four entries, the note, the receipt, the keys


def test_an_altered_reason_for_an_absent_rule_fails(world, platform, settings, monkeypatch):
    cosigned_by(monkeypatch, [CN_WITNESS])
    unknown_kid = decided(platform, settings, sign(world.cl, header={"kid": "k-2019"}))
    document = evidence_of(keyed(platform.key), unknown_kid)
    assert document["key"] is None
    assert document["absent"] == {
        "agreement": "the decision applied no agreement (a domestic check, or rejected before an agreement was found)",
        "key": "the authority had no key 'k-2019' in the log then",
    }
    assert check(as_file(document)).failures == []
    for path, value in leaves(document["absent"], ("absent",)):
        for position in range(0, len(value), 3):
            fails_naming(
                replaced(document, path, value[:position] + other(value[position]) + value[position + 1 :]), path
            )
    fails_naming(removed(document, ("absent", "key")), ("key",))


def flip(text: str, byte: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[byte] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_a_flipped_bit_in_a_proof_hash_an_entry_or_a_signature_fails(document):
    for name in ("decision", "agreement", "authority", "key"):
        for index in range(len(document[name]["inclusion"])):
            hashes = list(document[name]["inclusion"])
            hashes[index] = flip(hashes[index], 31)
            failures = trusted(as_file(replaced(document, (name, "inclusion"), hashes)))
            assert f"the inclusion proof of the {NAMES[name]} does not lead to the checkpoint's root" in failures
        entry = document[name]["entry"]
        flipped = entry[:-2] + chr(ord(entry[-2]) ^ 0x01) + entry[-1]
        failures = trusted(as_file(replaced(document, (name, "entry"), flipped)))
        assert f"the leaf hash of the {NAMES[name]} is not SHA-256(0x00 || its bytes)" in failures
    text, _, signatures = document["checkpoint"].rpartition("\n\n")
    lines = signatures.splitlines()
    for number, line in enumerate(lines):
        head, _, signature = line.rpartition(" ")
        changed = [*lines[:number], f"{head} {flip(signature, 40)}", *lines[number + 1 :]]
        note = f"{text}\n\n" + "".join(f"{each}\n" for each in changed)
        for given in ([CN_WITNESS.vkey, CL_WITNESS.vkey], [CN_WITNESS.vkey], []):
            failures = trusted(as_file(replaced(document, ("checkpoint",), note)), witnesses=given)
            assert any("does not verify" in failure for failure in failures), (given, failures)
    header, payload, signature = document["receipt"].split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x01
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    assert trusted(as_file(replaced(document, ("receipt",), forged))) == ["the receipt is not signed by the log key"]


def test_missing_members_and_wrong_types_fail_naming_them(document):
    paths = [(name,) for name in document] + [(rule, name) for rule in NAMES if rule in RULED for name in PROVEN]
    for path in paths:
        failures = trusted(as_file(removed(document, path)))
        assert len(failures) == 1 and f"it has no member {path[-1]!r}" in failures[0], (path, failures)
        for wrong in (None, 7, True, "text", [], {}, 1.5):
            if path[0] in ("agreement", "authority", "key") and wrong is None and len(path) == 1:
                continue  # null is a rule's way of being absent: covered by the reason check
            changed = replaced(document, path, wrong)
            if changed == document:
                continue
            failures = trusted(as_file(changed))
            assert failures, (path, wrong)
            assert "Traceback" not in " ".join(failures)


@pytest.mark.parametrize(
    "data, named",
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "a JSON object, not list"),
        (b'{"format": NaN}', "NaN is not a number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": 1, "a": 2}', "appears twice"),
        (b"1" * 5000, "not JSON"),
        (b" " * (MAX_DOCUMENT_BYTES + 1), "over the limit"),
    ],
)
def test_what_is_not_an_evidence_document_fails_with_one_line(data, named):
    failures = check(data).failures
    assert len(failures) == 1 and named in failures[0], failures


def test_the_check_is_pure_python_without_django():
    code = (
        "import sys, recognition.log.evidence\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'psycopg'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=django_settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
