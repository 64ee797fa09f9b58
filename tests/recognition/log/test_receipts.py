"""Receipts (DESIGN §6): the registry's signed promise that a decision will
be in the log, a compact JWS (EdDSA) with header typ `audit-receipt+jwt` and
kid the log key's signed-note key ID, payload {"iss": the log origin, "id",
"leaf_hash", "iat"}. Checked with two JOSE libraries we did not write
(jwcrypto, PyJWT) and the key as `GET key` publishes it, also after the key
was rotated."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils import timezone
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from recognition.log.entries import decision_entry
from recognition.log.keys import LogKey, log_key, rotate_log_key
from recognition.log.notes import key_id, vkey
from recognition.log.receipts import receipt, sign_receipt
from recognition.services.audit import record_decisions
from tests.support.audit import entry, leaf_hash
from tests.support.log_api import vkeys

FIELDS = {name: "" for name in ("client", "destination", "origin", "declared_origin", "issuer", "kid", "subject")}
FIELDS |= {"jti": "", "token_sha256": "0" * 64, "decision": "rejected", "reasons": ["malformed_token"]}
FIELDS |= {"agreement_id": None, "agreement_version": None}


def an_entry():
    return decision_entry(uuid.uuid4(), timezone.now(), FIELDS)


def b64url_decode(part: str) -> bytes:
    assert "=" not in part and "+" not in part and "/" not in part
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def public_of(vkey_text: str) -> Ed25519PublicKey:
    raw = base64.b64decode(vkey_text.split("+", 2)[2])
    assert raw[0] == 0x01
    return Ed25519PublicKey.from_public_bytes(raw[1:])


def jwcrypto_payload(token: str, vkey_text: str) -> dict:
    public = base64.b64decode(vkey_text.split("+", 2)[2])[1:]
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(public).rstrip(b"=").decode())
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA")
    assert signed.jose_header == {"alg": "EdDSA", "typ": "audit-receipt+jwt", "kid": vkey_text.split("+", 2)[1]}
    return json.loads(signed.payload)


def pyjwt_payload(token: str, vkey_text: str) -> dict:
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "audit-receipt+jwt", "kid": vkey_text.split("+", 2)[1]}
    return jwt.decode(token, public_of(vkey_text), algorithms=["EdDSA"], options={"verify_iat": False})


def test_a_receipt_is_a_compact_jws_of_the_documented_header_and_payload(db, settings):
    key, promised = log_key(), an_entry()

    token = sign_receipt(key, promised, iat=1_700_000_000)

    header, payload, signature = token.split(".")
    assert json.loads(b64url_decode(header)) == {"alg": "EdDSA", "kid": key.key_id.hex(), "typ": "audit-receipt+jwt"}
    assert json.loads(b64url_decode(payload)) == {
        "iss": settings.AUDIT_LOG["ORIGIN"],
        "id": str(promised.id),
        "leaf_hash": base64.b64encode(leaf_hash(promised.body)).decode(),
        "iat": 1_700_000_000,
    }
    public_of(key.vkey).verify(b64url_decode(signature), f"{header}.{payload}".encode())


def test_a_receipt_verifies_with_the_published_key_in_two_jose_libraries(db):
    promised = an_entry()
    token = receipt(promised)
    published = vkeys()[0]

    for payload in (jwcrypto_payload(token, published), pyjwt_payload(token, published)):
        assert (payload["id"], payload["leaf_hash"]) == (
            str(promised.id),
            base64.b64encode(promised.leaf_hash).decode(),
        )
        assert payload["iss"] == published.split("+", 2)[0]
        assert isinstance(payload["iat"], int) and abs(payload["iat"] - time.time()) < 60


def test_a_receipt_changed_or_signed_by_another_key_does_not_verify(db):
    token = receipt(an_entry())
    published = vkeys()[0]
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    forged_payload = base64.urlsafe_b64encode(json.dumps({**claims, "id": str(uuid.uuid4())}).encode()).rstrip(b"=")
    forged = f"{header}.{forged_payload.decode()}.{signature}"
    other = Ed25519PrivateKey.generate()
    other_public = other.public_key().public_bytes_raw()
    name = published.split("+", 2)[0]
    imposter = LogKey(other, other_public, name, key_id(name, 1, other_public), vkey(name, other_public))
    foreign = sign_receipt(imposter, an_entry(), iat=int(time.time()))

    for token in (forged, foreign):
        with pytest.raises(JWException):
            jwcrypto_payload(token, published)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, public_of(published), algorithms=["EdDSA"])


def test_each_recorded_decision_gets_a_receipt_of_its_own_entry(db):
    recorded = record_decisions([entry(client="a"), entry(client="b")], at=timezone.now())
    published = vkeys()[0]
    for one in recorded:
        payload = jwcrypto_payload(one.receipt, published)
        assert (payload["id"], payload["leaf_hash"]) == (str(one.id), base64.b64encode(one.entry.leaf_hash).decode())
    assert len({one.receipt for one in recorded}) == 2


def test_receipts_follow_a_key_rotation_and_old_ones_stay_checkable(db, settings, tmp_path):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "KEY_PATH": str(tmp_path / "audit-log-key.pem")}
    rotate_log_key()
    before = receipt(an_entry())
    rotate_log_key()
    after = receipt(an_entry())

    current, retired = vkeys()
    assert jwt.get_unverified_header(after)["kid"] == current.split("+", 2)[1] == log_key().key_id.hex()
    assert jwt.get_unverified_header(before)["kid"] == retired.split("+", 2)[1]
    jwcrypto_payload(after, current)
    jwcrypto_payload(before, retired)
    with pytest.raises(JWException):
        jwcrypto_payload(before, current)
