"""Check one decision in the registry's audit log with nothing but the log's
published key (README, "Checking a decision yourself").

    python check_decision.py https://registry.example <api-key> <receipt or entry id> [<vkey>]

Given the receipt of an answer, checks its signature with the log's key
first. Fetches the signed checkpoint, checks its signature with the log's
key, fetches the inclusion proof of the entry for that checkpoint's size,
checks that the entry's bytes hash to the leaf (the receipt's leaf hash)
and that the leaf is in the signed tree (RFC 9162 §2.1.3.2), and prints the
entry. Needs Python 3.10+ and the `cryptography` package; nothing of the
registry's code.

Pass the <vkey> you trust (from `GET /api/v1/audit/log/key`, kept from an
earlier visit or obtained from the registry's operator out of band): a key
fetched now from the registry itself proves nothing against its operator.
"""

import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fetch(registry: str, path: str, api_key: str | None = None) -> bytes:
    if not registry.startswith(("https://", "http://")):
        raise ValueError("the registry's address is an https:// URL")
    headers = {"Authorization": f"Api-Key {api_key}"} if api_key else {}
    request = urllib.request.Request(registry + path, headers=headers)  # noqa: S310 (http or https, checked above)
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return response.read()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def open_checkpoint(note: str, vkey: str) -> tuple[int, bytes]:
    """The (size, root hash) of a checkpoint signed by `vkey` (C2SP signed-note)."""
    name, key_id, key = vkey.split("+", 2)  # base64 may hold a +
    key = base64.b64decode(key)
    if key[0] != 1 or sha256(name.encode() + b"\n" + key)[:4].hex() != key_id:
        raise ValueError("not an Ed25519 vkey, or its key ID does not match")
    text, signatures = note[: note.rindex("\n\n") + 1], note[note.rindex("\n\n") + 2 :]
    for line in signatures.splitlines():
        signer, _, signature = line.removeprefix("\u2014 ").partition(" ")
        signature = base64.b64decode(signature)
        if signer == name and signature[:4].hex() == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(key[1:]).verify(signature[4:], text.encode())
            except InvalidSignature:
                break
            origin, size, root = text.splitlines()[:3]
            if origin != name:
                raise ValueError(f"the checkpoint is of {origin}, not of {name}")
            return int(size), base64.b64decode(root)
    raise ValueError("the checkpoint is not signed by this key")


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_receipt(receipt: str, vkey: str) -> dict:
    """The payload {"iss", "id", "leaf_hash", "iat"} of a receipt signed by
    `vkey` (a compact JWS, EdDSA, typ audit-receipt+jwt)."""
    name, key_id, key = vkey.split("+", 2)
    header, payload, signature = receipt.split(".")
    fields = json.loads(b64url(header))
    if fields != {"alg": "EdDSA", "kid": key_id, "typ": "audit-receipt+jwt"}:
        raise ValueError("not a receipt of this key")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key)[1:])
    try:
        public.verify(b64url(signature), f"{header}.{payload}".encode())
    except InvalidSignature:
        raise ValueError("the receipt is not signed by this key") from None
    promised = json.loads(b64url(payload))
    if promised["iss"] != name:
        raise ValueError(f"the receipt is of {promised['iss']}, not of {name}")
    return promised


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root a leaf and its inclusion proof lead to (RFC 9162 §2.1.3.2)."""
    if index >= size:
        raise ValueError("the leaf index is beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("the proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is too short")
    return r


def proven_entry(registry: str, api_key: str, entry_id: str, vkey: str | None = None) -> bytes:
    """The exact bytes of the entry `entry_id`, once proven to be in the
    log's signed tree."""
    if vkey is None:  # trust on first use: better, pass the key you kept
        vkey = fetch(registry, "/api/v1/audit/log/key").decode().splitlines()[0]
    note = fetch(registry, "/api/v1/audit/log/checkpoint").decode()
    size, root = open_checkpoint(note, vkey)
    path = f"/api/v1/audit/log/entries/{entry_id}/proof?size={size}"
    proof = json.loads(fetch(registry, path, api_key))
    entry = proof["entry"].encode()
    leaf = sha256(b"\x00" + entry)
    if leaf != base64.b64decode(proof["leaf_hash"]) or proof["size"] != size:
        raise ValueError("the proof is not of these bytes, or not for this checkpoint")
    hashes = [base64.b64decode(h) for h in proof["inclusion"]]
    if root_from_inclusion(proof["seq"], size, leaf, hashes) != root:
        raise ValueError("the entry is not in the signed tree")
    return entry


def check_decision(registry: str, api_key: str, entry_id: str, vkey: str | None = None) -> dict:
    """The entry `entry_id`, once proven to be in the log's signed tree."""
    return json.loads(proven_entry(registry, api_key, entry_id, vkey))


def check_receipt(registry: str, api_key: str, receipt: str, vkey: str | None = None) -> dict:
    """The entry a receipt promised, once proven to be in the log's signed
    tree with the very leaf hash the receipt names."""
    if vkey is None:
        vkey = fetch(registry, "/api/v1/audit/log/key").decode().splitlines()[0]
    promised = open_receipt(receipt, vkey)
    entry = proven_entry(registry, api_key, promised["id"], vkey)
    if sha256(b"\x00" + entry) != base64.b64decode(promised["leaf_hash"]):
        raise ValueError("the log holds another entry than the one the receipt promised")
    return json.loads(entry)


if __name__ == "__main__":
    registry, api_key, what, *trusted = sys.argv[1:]
    check = check_receipt if "." in what else check_decision  # a receipt is a compact JWS
    decision = check(registry, api_key, what, *trusted)
    print(json.dumps(decision, indent=2, ensure_ascii=False))
    print(f"entry {decision['id']} is in the log the registry signed; the bytes above are what it recorded")
