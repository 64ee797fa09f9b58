"""The registry's side of dispute evidence (DESIGN §11): for one decision,
the document recognition/log/evidence_format.py describes and
recognition/log/evidence.py checks.

The rules a decision used are found from its entry's fields: the agreement
version is a history id; the authority is the token's issuer's, and the key
its key of the token's kid, each as its latest history record at or before
the decision's instant. From a history
record to its change entry is one read of ChangeRecord.

Everything is proven against the checkpoint the log serves (with the
witnesses' cosignatures): an entry not yet in it is a 409, as for a proof.
The note keeps only the signatures of the keys the document lists, so that a
checker can require every signature line to be known.

The receipt is signed again, with the log's current key, and `iat` the
decision's instant (in seconds): the same decision gives the same receipt as
long as the key is the same (Ed25519 is deterministic), where the receipt
of the answer said the instant it was signed, a second later at most.
"""

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from identity.models import Authority, AuthorityKey
from recognition.log import proofs, tree, witnesses
from recognition.log.entries import Entry
from recognition.log.evidence_format import FORMAT, MODELS, RULES, absence
from recognition.log.keys import log_key, published_vkeys
from recognition.log.notes import parse_vkey, split_note
from recognition.log.proofs import LogRefusal
from recognition.log.receipts import sign_receipt
from recognition.log.tiles import TileCache
from recognition.models import ChangeRecord, Checkpoint, EntryKind, LogEntry


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _proven(entry: LogEntry, checkpoint: Checkpoint, tiles: TileCache) -> dict[str, Any]:
    if entry.seq is None:  # placed since it was read (served_checkpoint may integrate)
        entry.seq = LogEntry.objects.filter(id=entry.id).values_list("seq", flat=True).first()
    if entry.seq is None or entry.seq >= checkpoint.size:
        raise LogRefusal(
            409, "not_yet_integrated", f"entry {entry.id} is in no served checkpoint yet; ask again", retry_after=1
        )
    return {
        "id": str(entry.id),
        "seq": entry.seq,
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
        "entry": bytes(entry.body).decode("utf-8"),
        "inclusion": [_b64(h) for h in tree.inclusion_proof(entry.seq, checkpoint.size, tiles.read)],
    }


def _as_of(history: Any, at: datetime, **match: Any) -> Any:
    return history.filter(history_date__lte=at, **match).order_by("-history_date", "-history_id").first()


def _rule_records(fields: dict[str, Any], at: datetime) -> dict[str, tuple[str, int] | None]:
    """For each rule, (model, history id) of its record, or None."""
    found: dict[str, tuple[str, int] | None] = dict.fromkeys(RULES)
    if fields["agreement_id"] is not None:
        found["agreement"] = (MODELS["agreement"], fields["agreement_version"])
    issuer, kid = fields["issuer"], fields["kid"]
    if not issuer:
        return found
    # An authority's issuer never changes (identity.services.authorities).
    current = Authority.objects.filter(issuer=issuer).values_list("id", flat=True).first()
    authority = _as_of(Authority.history, at, id=current) if current is not None else None
    if authority is None:
        return found
    found["authority"] = (MODELS["authority"], authority.history_id)
    key = _as_of(AuthorityKey.history, at, authority_id=authority.id, kid=kid) if kid else None
    if key is not None:
        found["key"] = (MODELS["key"], key.history_id)
    return found


def _listed_signatures(note: str, vkeys: list[str]) -> str:
    """The note with only the signature lines of the listed keys."""
    text, signatures = split_note(note)
    known = {(verifier.name, verifier.key_id) for verifier in map(parse_vkey, vkeys)}
    lines = note[len(text) + 1 :].splitlines(keepends=True)
    kept = [
        line for line, signature in zip(lines, signatures, strict=True) if (signature.name, signature.key_id) in known
    ]
    return text + "\n" + "".join(kept)


def evidence(entry_id: uuid.UUID) -> dict[str, Any]:
    """The evidence document of the decision `entry_id` (404 for an unknown
    id or a change entry: only decisions have evidence; 409 before the
    served checkpoint holds every entry it proves)."""
    checkpoint, note = proofs.served_checkpoint()
    decision = LogEntry.objects.filter(id=entry_id).first()
    if decision is None:
        raise LogRefusal(404, "not_found", f"no log entry {entry_id}")
    if decision.kind != EntryKind.DECISION:
        raise LogRefusal(404, "not_found", f"log entry {entry_id} is a registry change: only decisions have evidence")
    fields = json.loads(bytes(decision.body))
    records = _rule_records(fields, decision.created_at)
    wanted = [found for found in records.values() if found is not None]
    rows = {
        (row.model, row.history_id): row.entry
        for row in ChangeRecord.objects.filter(history_id__in=[h for _, h in wanted]).select_related("entry")
    }
    tiles = TileCache()
    document: dict[str, Any] = {"format": FORMAT, "decision": _proven(decision, checkpoint, tiles)}
    for name in RULES:
        entry = rows.get(records[name])
        held = entry is not None and (name != "key" or document["authority"] is not None)
        document[name] = _proven(entry, checkpoint, tiles) if held else None
    held = document["authority"] is not None
    absent = {name: absence(name, fields, authority_held=held) for name in RULES if document[name] is None}
    log_vkeys, witness_vkeys = published_vkeys(), witnesses.active_vkeys()
    raw = Entry(decision.id, decision.kind, decision.created_at, bytes(decision.body), bytes(decision.leaf_hash))
    document |= {
        "receipt": sign_receipt(log_key(), raw, iat=int(decision.created_at.timestamp())),
        "absent": absent,
        "checkpoint": _listed_signatures(note, log_vkeys + witness_vkeys),
        "log_vkeys": log_vkeys,
        "witness_vkeys": witness_vkeys,
    }
    return document
