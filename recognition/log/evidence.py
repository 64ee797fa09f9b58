"""The offline check of dispute evidence (DESIGN §11; the document:
recognition/log/evidence_format.py).

check() is pure: json, base64 and the log's pure modules (notes, tree,
evidence_format); no Django, no database, no network. It reports every
failure it can reach, each naming what no longer holds, and never raises on
what the file holds. Trade-off: "the key as of the decision" is proven to be
a record before the decision's instant, not to be the latest one; a later
change of the key before the decision would need the entries between them
(the log's entry bundles), which a single document does not carry.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recognition.log import tree
from recognition.log.evidence_format import (
    MODELS,
    RECEIPT_TYP,
    RULES,
    WHAT,
    Unreadable,
    absence,
    decode_base64,
    no_duplicates,
    not_a_number,
    read,
)
from recognition.log.notes import COSIGNATURE_V1, ED25519, NoteError, Verifier, parse_checkpoint, parse_vkey, split_note
from recognition.log.notes import verify_note as _verify_note


@dataclass
class Proven:
    """One entry of the document once its bytes, leaf and proof are checked."""

    name: str
    seq: int
    fields: dict[str, Any]


@dataclass
class Outcome:
    """The failures (one line each, empty when all holds) and what the
    document proves, in one paragraph."""

    failures: list[str] = field(default_factory=list)
    paragraph: str = ""


# Checking ----------------------------------------------------------------------------------------


@dataclass
class Trust:
    log: list[Verifier]
    witnesses: list[Verifier]
    log_from_file: bool
    witnesses_from_file: bool


def _verifiers(texts: Sequence[str], sig_type: int, what: str, failures: list[str]) -> list[Verifier]:
    found = []
    for text in texts:
        try:
            verifier = parse_vkey(text)
        except NoteError as exc:
            failures.append(f"{what} {text[:80]!r} is not a vkey: {exc}")
            continue
        if verifier.sig_type != sig_type:
            failures.append(
                f"{what} {verifier.name} is of signature type 0x{verifier.sig_type:02x}, not 0x{sig_type:02x}"
            )
            continue
        found.append(verifier)
    return found


def _trust(
    document: dict[str, Any], log_keys: Sequence[str], witness_keys: Sequence[str], failures: list[str]
) -> Trust:
    listed_log = _verifiers(document["log_vkeys"], ED25519, "the document's log vkey", failures)
    listed_witnesses = _verifiers(document["witness_vkeys"], COSIGNATURE_V1, "the document's witness vkey", failures)
    given_log = _verifiers(log_keys, ED25519, "the --log-key", failures)
    given_witnesses = _verifiers(witness_keys, COSIGNATURE_V1, "the --witness-key", failures)
    for verifier in given_log:
        if verifier not in listed_log:
            failures.append(
                f"the log key {verifier.name}+{verifier.key_id.hex()} is not among the document's log vkeys"
            )
    if not listed_log:
        failures.append("the document lists no log vkey")
    return Trust(
        log=given_log or ([] if log_keys else listed_log),
        witnesses=given_witnesses or ([] if witness_keys else listed_witnesses),
        log_from_file=not log_keys,
        witnesses_from_file=not witness_keys,
    )


def _open_checkpoint(document: dict[str, Any], trust: Trust, listed: list[Verifier], failures: list[str]) -> Any:
    """The checkpoint, its log signer and its cosigners, or None."""
    note = document["checkpoint"]
    try:
        text, signatures = split_note(note)
        checkpoint = parse_checkpoint(text)
    except NoteError as exc:
        failures.append(f"the checkpoint is not a signed checkpoint: {exc}")
        return None
    known = {(verifier.name, verifier.key_id) for verifier in listed}
    for number, signature in enumerate(signatures, 1):
        if (signature.name, signature.key_id) not in known:
            failures.append(f"signature line {number} of the checkpoint is by {signature.name}+"
                            f"{signature.key_id.hex()}, a key the document does not list")  # fmt: skip
    try:
        _, signed_by = _verify_note(note, trust.log)
    except NoteError as exc:
        failures.append(f"the checkpoint's log signature does not verify with the log key: {exc}")
        return None
    if checkpoint.origin not in {verifier.name for verifier in signed_by}:
        failures.append(f"the checkpoint is of {checkpoint.origin!r}, not of the log key's name {signed_by[0].name!r}")
    # The listed witnesses' cosignatures must verify too, trusted or not, so
    # that no byte of the note can change unnoticed; only the trusted count.
    others = [v for v in listed if v.sig_type == COSIGNATURE_V1 and v not in trust.witnesses]
    cosigners: list[Verifier] = []
    if trust.witnesses or others:
        try:
            verified = _verify_note(note, trust.log + trust.witnesses + others)[1]
            cosigners = [verifier for verifier in verified if verifier in trust.witnesses]
        except NoteError as exc:
            failures.append(f"a witness's cosignature on the checkpoint does not verify: {exc}")
    return checkpoint, signed_by[0], cosigners


def _prove(document: dict[str, Any], name: str, checkpoint: Any, failures: list[str]) -> Proven | None:
    proven, what = document[name], WHAT[name]
    try:
        body = proven["entry"].encode("utf-8")
    except UnicodeEncodeError:
        failures.append(f"the bytes of {what} are not UTF-8")
        return None
    leaf = tree.leaf_hash(body)
    held = True
    try:
        promised = decode_base64(proven["leaf_hash"], f"the leaf hash of {what}")
        path = [
            decode_base64(h, f"hash {i} of the inclusion proof of {what}") for i, h in enumerate(proven["inclusion"])
        ]
    except ValueError as exc:
        failures.append(str(exc))
        return None
    if promised != leaf:
        failures.append(f"the leaf hash of {what} is not SHA-256(0x00 || its bytes)")
        held = False
    if checkpoint is not None and not (
        proven["seq"] < checkpoint.size
        and tree.verify_inclusion(proven["seq"], checkpoint.size, leaf, path, checkpoint.root)
    ):
        failures.append(f"the inclusion proof of {what} does not lead to the checkpoint's root")
        held = False
    try:
        fields = json.loads(body, object_pairs_hook=no_duplicates, parse_constant=not_a_number)
    except (ValueError, RecursionError):
        failures.append(f"the bytes of {what} are not a JSON object")
        return None
    if not isinstance(fields, dict):
        failures.append(f"the bytes of {what} are not a JSON object")
        return None
    kind = "decision" if name == "decision" else "change"
    if fields.get("kind") != kind or (name != "decision" and fields.get("model") != MODELS[name]):
        failures.append(f"{what} is not a {kind} entry{'' if name == 'decision' else ' of ' + MODELS[name]}")
        held = False
    if fields.get("id") != proven["id"]:
        failures.append(f"the id of {what} is not the one its bytes hold")
        held = False
    return Proven(name, proven["seq"], fields) if held else None


def _values(proven: Proven) -> dict[str, Any]:
    values = proven.fields.get("values")
    return values if isinstance(values, dict) else {}


def _match_rules(
    decision: dict[str, Any], rules: dict[str, Proven | None], document: dict, failures: list[str]
) -> None:
    absent = document["absent"]
    for name in RULES:
        if document[name] is None and name not in absent:
            failures.append(f"the document holds no {WHAT[name][4:]} and gives no reason for its absence")
        if document[name] is not None and name in absent:
            failures.append(f"the document holds {WHAT[name]} and yet a reason for its absence")
    for name in set(absent) - set(RULES):
        failures.append(f"the document gives a reason for the absence of {name!r}, which is no rule")
    for name in set(absent) & set(RULES):
        if absent[name] != absence(name, decision, authority_held=document["authority"] is not None):
            failures.append(f"the reason for the absence of {WHAT[name]} is not the one the decision's fields give")
    agreement, authority, key = (rules[name] for name in RULES)
    instant = decision.get("created_at")
    for proven in (p for p in (agreement, authority, key) if p is not None):
        if not isinstance(proven.fields.get("created_at"), str) or not proven.fields["created_at"] <= str(instant):
            failures.append(f"{WHAT[proven.name]} is not a record made at or before the decision's instant")
    if decision.get("agreement_id") is None:
        if document["agreement"] is not None:
            failures.append("the decision applied no agreement, yet the document holds an agreement change entry")
    elif document["agreement"] is None:
        applied = f"agreement {decision['agreement_id']} version {decision.get('agreement_version')}"
        failures.append(f"the decision applied {applied}, but the document holds no change entry of it")
    if agreement is not None:
        if agreement.fields.get("object_id") != str(decision.get("agreement_id")):
            failures.append("the agreement change entry is not of the agreement the decision applied")
        if agreement.fields.get("history_id") != decision.get("agreement_version"):
            failures.append("the agreement change entry is not of the agreement version the decision applied")
        if _values(agreement).get("destination") != decision.get("destination"):
            failures.append("the agreement change entry is not of the decision's destination")
        if authority is not None and str(_values(agreement).get("authority_id")) != authority.fields.get("object_id"):
            failures.append("the agreement change entry recognizes another authority than the decision's issuer")
    if decision.get("decision") == "accepted":
        for name in ("authority", "key"):
            if document[name] is None:
                failures.append(f"the decision is accepted, but the document holds no {name} change entry")
    if authority is not None:
        if _values(authority).get("issuer") != decision.get("issuer"):
            failures.append("the authority change entry is not of the decision's issuer")
        if decision.get("origin") and _values(authority).get("country") != decision.get("origin"):
            failures.append("the authority change entry is not of the decision's origin country")
    if key is not None:
        if _values(key).get("kid") != decision.get("kid"):
            failures.append("the key change entry is not of the decision's kid")
        if authority is None or str(_values(key).get("authority_id")) != authority.fields.get("object_id"):
            failures.append("the key change entry is not a key of the decision's issuer")


def _check_receipt(document: dict[str, Any], decision: dict[str, Any], trust: Trust, failures: list[str]) -> None:
    """The receipt (a compact JWS, DESIGN §6) is signed by the log key and
    promises this very entry: its id and its leaf hash."""
    parts = document["receipt"].split(".")
    try:
        if len(parts) != 3:
            raise ValueError("the receipt is not a compact JWS of three parts")
        header = json.loads(decode_base64(parts[0], "the receipt's header", url=True))
        payload = json.loads(decode_base64(parts[1], "the receipt's payload", url=True))
        signature = decode_base64(parts[2], "the receipt's signature", url=True)
    except (ValueError, RecursionError) as exc:
        failures.append(str(exc) if str(exc).startswith("the receipt") else "the receipt is not a compact JWS")
        return
    signers = [v for v in trust.log if header == {"alg": "EdDSA", "kid": v.key_id.hex(), "typ": RECEIPT_TYP}]
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    if not signers or not _signed(signers[0], signing_input, signature):
        failures.append("the receipt is not signed by the log key")
        return
    if not isinstance(payload, dict) or payload.get("iss") != signers[0].name:
        failures.append("the receipt is not of this log")
    elif payload.get("id") != document["decision"]["id"] or payload.get("id") != decision.get("id"):
        failures.append("the receipt names another entry than the decision entry")
    elif payload.get("leaf_hash") != base64.b64encode(tree.leaf_hash(document["decision"]["entry"].encode())).decode():
        failures.append("the receipt promises another leaf hash than the decision entry's")


def _signed(verifier: Verifier, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check(data: bytes, *, log_keys: Sequence[str] = (), witness_keys: Sequence[str] = ()) -> Outcome:
    """Check an evidence file. `log_keys` and `witness_keys` are the trust
    anchors; without them, the document's own vkeys are used (weaker: a
    forger would list its own), and the paragraph says so."""
    outcome = Outcome()
    try:
        document = read(data)
    except Unreadable as exc:
        outcome.failures.append(str(exc))
        return outcome
    failures = outcome.failures
    trust = _trust(document, log_keys, witness_keys, failures)
    listed = _verifiers(document["log_vkeys"], ED25519, "", []) + _verifiers(
        document["witness_vkeys"], COSIGNATURE_V1, "", []
    )
    opened = _open_checkpoint(document, trust, listed, failures) if trust.log else None
    checkpoint = opened[0] if opened else None
    if not trust.log:
        failures.append("no log key to check the checkpoint with")
    decision = _prove(document, "decision", checkpoint, failures)
    rules = {
        name: _prove(document, name, checkpoint, failures) if document[name] is not None else None for name in RULES
    }
    if decision is not None:
        _match_rules(decision.fields, rules, document, failures)
        _check_receipt(document, decision.fields, trust, failures)
    if opened:
        cosigners = opened[2]
        for verifier in trust.witnesses if not trust.witnesses_from_file else ():
            if verifier not in cosigners:
                failures.append(f"the witness {verifier.name} (given with --witness-key) did not cosign the checkpoint")
    if not failures and opened and decision is not None:
        outcome.paragraph = paragraph(document, decision, rules, opened, trust)
    return outcome


# Telling -----------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def paragraph(document: dict, decision: Proven, rules: dict[str, Proven | None], opened: Any, trust: Trust) -> str:
    """What the document proves, in one paragraph."""
    fields, (checkpoint, log, cosigners) = {k: _text(v) for k, v in decision.fields.items()}, opened
    reasons = decision.fields.get("reasons")
    reasons = ", ".join(map(str, reasons)) if isinstance(reasons, list) and reasons else "none"
    origin = fields.get("origin") or "not established (no usable key verified the signature)"
    said = [
        f"The registry's log {checkpoint.origin} recorded decision {fields.get('id')}: {fields.get('decision')} "
        f"(reasons: {reasons}) at {fields.get('created_at')}, for destination {fields.get('destination')} and origin "
        f"{origin} (declared: {fields.get('declared_origin') or 'none'}), for the token of issuer "
        f"{fields.get('issuer') or 'none'}, key {fields.get('kid') or 'none'}, "
        f"subject {fields.get('subject') or 'none'}, asked by {fields.get('client')}.",
    ]
    if rules["agreement"] is not None:
        values = _values(rules["agreement"])
        said.append(
            f"It applied agreement {fields['agreement_id']} version {fields['agreement_version']} "
            f"({values.get('destination')} recognizing authority {values.get('authority_id')}, status "
            f"{values.get('status')}), leaf {rules['agreement'].seq}."
        )
    for name in RULES:
        if document[name] is None:
            said.append(f"No {name} change entry: {document['absent'][name]}.")
    for name in ("authority", "key"):
        if rules[name] is not None:
            values = _values(rules[name])
            described = values.get("issuer") if name == "authority" else values.get("kid")
            said.append(f"The {name} {described} as of the decision (status {values.get('status')}) is leaf "
                        f"{rules[name].seq}.")  # fmt: skip
    said.append(
        f"The decision is leaf {decision.seq} of the tree of size {checkpoint.size} whose checkpoint is signed by "
        f"the log key {log.name}+{log.key_id.hex()}"
        + (" (taken from the evidence file itself, not given: weaker)" if trust.log_from_file else "")
        + "; the receipt is signed by the same key and promises this entry."
    )
    names = ", ".join(verifier.name for verifier in cosigners)
    source = " (their keys taken from the evidence file itself)" if trust.witnesses_from_file else ""
    said.append(f"Cosigned by the witnesses {names}{source}." if cosigners else "No witness cosigned the checkpoint.")
    silent = [v.name for v in trust.witnesses if v not in cosigners]
    if silent and trust.witnesses_from_file:
        said.append(f"Listed but not cosigning: {', '.join(silent)}.")
    return " ".join(said)
