"""Receipts (DESIGN §6): the registry's signed promise that a decision will
be in the log within the maximum merge delay, which the caller keeps as
evidence. A compact JWS signed with the log key (EdDSA), header `typ`
`audit-receipt+jwt` and `kid` the log key's signed-note key ID (hex), payload
{"iss": <log origin>, "id", "leaf_hash": <base64>, "iat"}.

Built by hand rather than by PyJWT: one is signed for every verification,
the header is the same for every receipt of a key, and so is the payload's
beginning (the bytes are json.dumps' with separators (",", ":"), a test holds
them to it). The key is looked up once for all the receipts of a request (a
look-up checks the key file for a rotation)."""

import base64
import json
import time
from collections.abc import Sequence
from functools import lru_cache

from recognition.log.entries import Entry
from recognition.log.keys import LogKey, log_key

RECEIPT_TYP = "audit-receipt+jwt"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=8)
def _header(key_id: bytes) -> str:
    header = {"alg": "EdDSA", "kid": key_id.hex(), "typ": RECEIPT_TYP}
    return b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode("ascii"))


@lru_cache(maxsize=8)
def _issuer(name: str) -> str:
    """The payload's first member, as json.dumps writes it."""
    return '{"iss":' + json.dumps(name) + ',"id":"'


def sign_receipt(key: LogKey, entry: Entry, *, iat: int) -> str:
    # json.dumps({"iss", "id", "leaf_hash", "iat"}, separators=(",", ":")):
    # the id (a UUID) and the base64 hash need no escaping, iat is an int.
    leaf_hash = base64.b64encode(entry.leaf_hash).decode("ascii")
    payload = f'{_issuer(key.name)}{entry.id}","leaf_hash":"{leaf_hash}","iat":{int(iat)}}}'
    signing_input = f"{_header(key.key_id)}.{b64url(payload.encode('utf-8'))}"
    return f"{signing_input}.{b64url(key.private_key.sign(signing_input.encode('ascii')))}"


def receipts(entries: Sequence[Entry]) -> list[str]:
    """The receipts of entries just committed, signed now with the current
    key, looked up once for all of them."""
    key, iat = log_key(), int(time.time())
    return [sign_receipt(key, entry, iat=iat) for entry in entries]


def receipt(entry: Entry) -> str:
    """The receipt of an entry just committed, signed now with the current key."""
    return receipts([entry])[0]
