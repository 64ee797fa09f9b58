"""The README's worked example (tests/recognition/log/readme_example.py, the
exact text the README shows): with nothing but the log's published key, a
platform or regulator fetches the checkpoint and a proof over HTTP from a
running registry, checks the checkpoint's signature, the leaf hash of the
entry's bytes and the inclusion proof by hand. Run here against a live
server, in-process and as the script a user runs; and shown to fail when its
algorithm is wrong (a hash's operands flipped, a step left out), so that the
README cannot teach a check that passes anything."""

import base64
import importlib.util
import json
import re
import subprocess
import sys
import types
import uuid
from pathlib import Path
from urllib.error import HTTPError

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import api_key_create
from recognition.log.integrator import integrate_all
from recognition.log.keys import log_key
from recognition.log.notes import vkey
from recognition.models import LogEntry, Verification
from tests.recognition.log import readme_example
from tests.support.api import Api
from tests.support.audit import expected_entry
from tests.support.tokens import sign

SCRIPT = Path(readme_example.__file__)


RECEIPTS: dict[str, str] = {}  # decision id -> the receipt of its answer, for the fixture's last run


@pytest.fixture
def served(world, live_server, settings) -> tuple[str, list[str], str, list[str]]:
    """A registry at live_server.url whose log holds the shared actors'
    changes and 21 decisions of one platform (33 leaves: every branch of the
    inclusion loop is taken); (its URL, the platform's key and decisions, a
    regulator's key, every entry). The answers' receipts: RECEIPTS."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    platform = api_key_create(name="shop-platform", role="platform")[1]
    regulator = api_key_create(name="market-regulator", role="regulator")[1]
    api = Api(client=APIClient(), key=platform)
    answers = [api.verify(sign(world.cl), "CN").json() for _ in range(21)]
    RECEIPTS.clear()
    RECEIPTS.update({answer["id"]: answer["audit"]["receipt"] for answer in answers})
    integrate_all()
    everything = [str(id) for id in LogEntry.objects.order_by("seq").values_list("id", flat=True)]
    assert len(everything) == 33
    return live_server.url, [platform, *RECEIPTS], regulator, everything


@pytest.mark.django_db(transaction=True)
def test_a_platform_checks_its_decisions_with_the_readme_example(served):
    url, (platform, *decided), _, _ = served
    published = log_key().vkey  # as the operator publishes it, out of band
    for entry_id in decided:
        decision = readme_example.check_decision(url, platform, entry_id, published)
        assert json.dumps(decision, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == (
            expected_entry(Verification.objects.get(id=entry_id))
        )
    # Trust on first use: the key fetched from the registry itself.
    assert readme_example.check_decision(url, platform, decided[0])["id"] == decided[0]


@pytest.mark.django_db(transaction=True)
def test_a_regulator_checks_every_entry_with_the_readme_example(served):
    url, _, regulator, everything = served
    for entry_id in everything:
        assert readme_example.check_decision(url, regulator, entry_id, log_key().vkey)["id"] == entry_id


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_refuses_a_key_that_did_not_sign_the_log(served):
    url, (platform, decided, *_), _, _ = served
    # Another Ed25519 key under the log's name.
    imposter = vkey(log_key().name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    with pytest.raises(ValueError, match="not signed by this key"):
        readme_example.check_decision(url, platform, decided, imposter)
    with pytest.raises(HTTPError) as refused:  # another platform's decision is not shown
        readme_example.check_decision(url, api_key_create(name="other", role="platform")[1], decided, log_key().vkey)
    assert refused.value.code == 404
    with pytest.raises(HTTPError):
        readme_example.check_decision(url, platform, str(uuid.uuid4()), log_key().vkey)


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_runs_as_a_script(served):
    url, (platform, decided, *_), _, _ = served
    done = subprocess.run(
        [sys.executable, SCRIPT, url, platform, decided, log_key().vkey],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed, _, last = done.stdout.rstrip("\n").rpartition("\n")
    assert json.loads(printed)["id"] == decided
    assert last == f"entry {decided} is in the log the registry signed; the bytes above are what it recorded"


# The example must fail when its algorithm is wrong. Each mutation is one
# textual change of the README's code.
MUTATIONS = {
    "left sibling's operands flipped": ('r = sha256(b"\\x01" + p + r)', 'r = sha256(b"\\x01" + r + p)'),
    "right sibling's operands flipped": ('r = sha256(b"\\x01" + r + p)', 'r = sha256(b"\\x01" + p + r)'),
    "node prefix 0x00": ('r = sha256(b"\\x01" + p + r)', 'r = sha256(b"\\x00" + p + r)'),
    "right edge not skipped": ("while fn % 2 == 0 and fn != 0:", "while False:"),
    "right edge test left out": ("if fn % 2 == 1 or fn == sn:", "if fn % 2 == 1:"),
    "size not minus one": ("fn, sn, r = index, size - 1, leaf", "fn, sn, r = index, size, leaf"),
    "leaf without its prefix": ('leaf = sha256(b"\\x00" + entry)', "leaf = sha256(entry)"),
    "signature over the whole note": (".verify(signature[4:], text.encode())", ".verify(signature[4:], note.encode())"),
    "root line misread": ("origin, size, root = text.splitlines()[:3]", "origin, root, size = text.splitlines()[:3]"),
}


def mutant(original: str, replacement: str) -> types.ModuleType:
    source = SCRIPT.read_text(encoding="utf-8")
    assert source.count(original) == 1, original
    spec = importlib.util.spec_from_loader("readme_example_mutant", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source.replace(original, replacement), str(SCRIPT), "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.mark.django_db(transaction=True)
def test_a_wrong_readme_algorithm_fails_the_check(served):
    url, _, regulator, everything = served
    published = log_key().vkey
    for name, (original, replacement) in MUTATIONS.items():
        wrong = mutant(original, replacement)
        failures = 0
        for entry_id in everything:
            try:
                wrong.check_decision(url, regulator, entry_id, published)
            except (ValueError, TypeError, IndexError):
                failures += 1
        assert failures, f"{name}: the mutated example accepted every entry"
    unchanged = MUTATIONS["left sibling's operands flipped"][0]
    same = mutant(unchanged, unchanged)  # the way of running a mutant is not what fails it
    assert all(same.check_decision(url, regulator, entry_id, published) for entry_id in everything)


# Receipts ---------------------------------------------------------------------------------------


def forged_receipts(decided: str) -> dict[str, str]:
    """Receipts the example must refuse: altered, signed by another key under
    the log's key ID, or signed by the log's key over a leaf the log does not
    hold (what a registry that promised one thing and logged another gives)."""
    receipt = RECEIPTS[decided]
    header, payload, signature = receipt.split(".")
    promised = json.loads(readme_example.b64url(payload))
    other_leaf = {**promised, "leaf_hash": base64.b64encode(bytes(32)).decode()}
    imposter = Ed25519PrivateKey.generate()

    def signed(key: Ed25519PrivateKey, claims: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{body}.{b64url_of(key.sign(f'{header}.{body}'.encode()))}"

    return {
        "payload altered": f"{header}.{signed(imposter, other_leaf).split('.')[1]}.{signature}",
        "signed by another key": signed(imposter, promised),
        "the log's key over another leaf": signed(log_key().private_key, other_leaf),
    }


def b64url_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.django_db(transaction=True)
def test_a_platform_checks_the_receipts_of_its_answers(served):
    url, (platform, *decided), _, _ = served
    published = log_key().vkey
    for entry_id in decided:
        decision = readme_example.check_receipt(url, platform, RECEIPTS[entry_id], published)
        assert decision == json.loads(expected_entry(Verification.objects.get(id=entry_id)))
        assert readme_example.open_receipt(RECEIPTS[entry_id], published)["id"] == entry_id


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_refuses_a_forged_receipt(served):
    url, (platform, decided, *_), _, _ = served
    for name, receipt in forged_receipts(decided).items():
        with pytest.raises(ValueError, match="not signed by this key|another entry than the one"):
            readme_example.check_receipt(url, platform, receipt, log_key().vkey)
        assert name  # each case refused above


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_checks_a_receipt_as_a_script(served):
    url, (platform, decided, *_), _, _ = served
    done = subprocess.run(
        [sys.executable, SCRIPT, url, platform, RECEIPTS[decided], log_key().vkey],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.rstrip("\n").rpartition("\n")[0])["id"] == decided


RECEIPT_MUTATIONS = {
    "signature not checked": (
        'public.verify(b64url(signature), f"{header}.{payload}".encode())',
        "public.verify, signature, payload",
    ),
    "header not checked": ('if fields != {"alg": "EdDSA", "kid": key_id, "typ": "audit-receipt+jwt"}:', "if False:"),
    "leaf hash not compared": (
        'if sha256(b"\\x00" + entry) != base64.b64decode(promised["leaf_hash"]):',
        "if False:",
    ),
}


@pytest.mark.django_db(transaction=True)
def test_a_wrong_readme_receipt_check_fails(served):
    url, (platform, *decided), _, _ = served
    published = log_key().vkey
    forged = forged_receipts(decided[0])
    # The log's key over another type of token with the same claims.
    header = b64url_of(json.dumps({"alg": "EdDSA", "kid": published.split("+")[1], "typ": "JWT"}).encode())
    payload = RECEIPTS[decided[0]].split(".")[1]
    forged["another typ"] = (
        f"{header}.{payload}.{b64url_of(log_key().private_key.sign(f'{header}.{payload}'.encode()))}"
    )
    with pytest.raises(ValueError, match="not a receipt of this key"):
        readme_example.check_receipt(url, platform, forged["another typ"], published)
    for name, (original, replacement) in RECEIPT_MUTATIONS.items():
        wrong = mutant(original, replacement)
        accepted_forgeries = 0
        for receipt in forged.values():
            try:
                wrong.check_receipt(url, platform, receipt, published)
                accepted_forgeries += 1
            except ValueError:
                pass
        assert accepted_forgeries, f"{name}: the mutated example refused every forged receipt"


def test_the_readme_shows_the_script_the_suite_runs():
    """The code under "Checking a decision yourself" is this script, to the
    character (its docstring aside): what the tests above run is what a
    reader copies."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Checking a decision yourself\n", 1)[1].split("\n### ", 1)[0]
    (shown,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    source = SCRIPT.read_text(encoding="utf-8")
    assert shown == source[source.index('"""', 3) + 3 :].lstrip("\n")
