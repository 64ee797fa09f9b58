"""Dispute evidence (DESIGN §11): what the document holds and how it is read.

One JSON document ("format": FORMAT) proves, offline, what was decided and
under which rules: the decision entry, the change entries of the rules it
used (the agreement version, the issuing authority and the key, each as of
the decision), each with its inclusion proof in the tree of one checkpoint;
that checkpoint's signed note (the log's signature, then the witnesses'
cosignatures); the log's and the witnesses' vkeys; and the receipt.

    {"format", "decision": PROVEN, "receipt",
     "agreement": PROVEN | null, "authority": PROVEN | null, "key": PROVEN | null,
     "absent": {<rule>: <why it is null>, ...},
     "checkpoint": <signed note>, "log_vkeys": [...], "witness_vkeys": [...]}
    PROVEN = {"id", "seq", "leaf_hash", "entry", "inclusion": [...]}

Pure (json and base64 only): the registry writes the document with it
(recognition/log/disputes.py) and the offline check reads it
(recognition/log/evidence.py). Reading is strict: exactly these members, of
these types, no member twice, no NaN, canonical base64.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

FORMAT = "merchant-registry-evidence/v1"
# Four entries of at most 64 KiB, a note of at most 1 MiB, proofs and keys.
MAX_DOCUMENT_BYTES = 4 << 20
RULES = ("agreement", "authority", "key")
MODELS = {
    "agreement": "recognition.recognitionagreement",
    "authority": "identity.authority",
    "key": "identity.authoritykey",
}
WHAT = {
    "decision": "the decision entry",
    "agreement": "the agreement change entry",
    "authority": "the authority change entry",
    "key": "the key change entry",
}
MEMBERS = ("format", "decision", "receipt", *RULES, "absent", "checkpoint", "log_vkeys", "witness_vkeys")
PROVEN_MEMBERS = ("id", "seq", "leaf_hash", "entry", "inclusion")
RECEIPT_TYP = "audit-receipt+jwt"


def absence(name: str, decision: dict[str, Any], *, authority_held: bool) -> str:
    """Why the document holds no change entry for the rule `name`: a
    function of the decision's fields alone, so that the reason, which no
    signature covers, cannot be altered either."""
    issuer, kid = decision.get("issuer"), decision.get("kid")
    if name == "agreement":
        if decision.get("agreement_id") is None:
            return "the decision applied no agreement (a domestic check, or rejected before an agreement was found)"
        return "no log entry holds the agreement version the decision applied"
    if name == "authority":
        return f"no authority in the log had the issuer {issuer!r} then" if issuer else "the token named no issuer"
    if not authority_held:
        return "no key without the issuer's authority"
    return f"the authority had no key {kid!r} in the log then" if kid else "the token named no key (kid)"


class Unreadable(ValueError):
    """The document cannot be read far enough to check anything else."""


# Reading -----------------------------------------------------------------------------------------


def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise Unreadable(f"the document is not valid: member {name!r} appears twice")
        found[name] = value
    return found


def not_a_number(text: str) -> None:
    raise Unreadable(f"the document is not valid JSON: {text} is not a number")


def read(data: bytes) -> dict[str, Any]:
    """The document's members, checked for presence and type."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Unreadable(f"the file is {len(data)} bytes, over the limit of {MAX_DOCUMENT_BYTES} for evidence")
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=not_a_number)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"the file is not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise Unreadable("the document is not valid: it is nested too deeply") from None
    except Unreadable:
        raise
    except ValueError as exc:  # json.JSONDecodeError, and integers too long to read
        raise Unreadable(f"the file is not JSON: {exc}") from None
    _members(document, MEMBERS, "the document", f"evidence of {FORMAT}")
    if document["format"] != FORMAT:
        raise Unreadable(f"the document's format is {document['format']!r}, not {FORMAT!r}")
    _expect(document, "receipt", str)
    _expect(document, "checkpoint", str)
    for name in ("log_vkeys", "witness_vkeys"):
        _expect_strings(document[name], name)
    _expect(document, "absent", dict)
    _expect_strings(list(document["absent"].values()), "absent")
    _check_proven_shape(document["decision"], "decision")
    for name in RULES:
        if document[name] is not None:
            _check_proven_shape(document[name], name)
    return document


def _members(value: Any, members: Sequence[str], what: str, kind: str) -> None:
    """`value` is a JSON object with exactly `members`."""
    if not isinstance(value, dict):
        raise Unreadable(f"{what} is a JSON object, not {type(value).__name__}")
    missing = [name for name in members if name not in value]
    unknown = sorted(set(value) - set(members))
    if missing or unknown:
        problems = [f"it has no member {name!r}" for name in missing] + [f"unknown member {n!r}" for n in unknown]
        raise Unreadable(f"{what} is not {kind}: {'; '.join(problems)}")


def _expect(document: dict[str, Any], name: str, kind: type) -> None:
    if not isinstance(document[name], kind):
        raise Unreadable(f"the document's {name!r} is a {kind.__name__}, not {type(document[name]).__name__}")


def _expect_strings(values: Any, name: str) -> None:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise Unreadable(f"the document's {name!r} is a list of strings")


def _check_proven_shape(proven: Any, name: str) -> None:
    what = WHAT[name]
    _members(proven, PROVEN_MEMBERS, what, "a proven entry")
    if type(proven["seq"]) is not int or proven["seq"] < 0:
        raise Unreadable(f"the leaf index of {what} is a whole number, not {proven['seq']!r}")
    for member in ("id", "leaf_hash", "entry"):
        if not isinstance(proven[member], str):
            raise Unreadable(f"the {member} of {what} is a string, not {type(proven[member]).__name__}")
    _expect_strings(proven["inclusion"], f"inclusion of {what}")


def decode_base64(text: str, what: str, *, url: bool = False) -> bytes:
    """Canonical base64 (RFC 4648 §3.5: padded, or unpadded base64url, no
    stray bits): one value has one spelling, so no byte of it can change
    unnoticed."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) if url else base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    again = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() if url else base64.b64encode(raw).decode()
    if again != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw
