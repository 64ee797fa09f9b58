"""Dispute evidence for tests: witnesses with their own Ed25519 keys whose
real cosignatures (C2SP tlog-cosignature v1) are added to the served
checkpoint, in place of the registry's witnessing (the two functions the
evidence reads are replaced, nothing else); and the document fetched
through the API."""

import json
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from recognition.log import proofs, witnesses
from recognition.log.integrator import integrate_all
from recognition.log.notes import COSIGNATURE_V1, cosignature_line, split_note, vkey
from tests.support.log_api import LOG


@dataclass(frozen=True)
class Witness:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.private_key.public_key().public_bytes_raw(), COSIGNATURE_V1)

    def cosign(self, note: str) -> str:
        text, _ = split_note(note)
        return cosignature_line(text, self.name, self.private_key, int(time.time()))


def witness(name: str) -> Witness:
    return Witness(name, Ed25519PrivateKey.generate())


def cosigned_by(monkeypatch, cosigners: list[Witness], *, in_service: list[Witness] | None = None) -> None:  # noqa: ANN001
    """The served checkpoint carries the cosignatures of `cosigners`; the
    witnesses in service are `in_service` (default: the cosigners)."""
    served = proofs.served_checkpoint
    cosigned: dict[str, str] = {}  # a witness cosigns a checkpoint once, as a real one keeps its answer

    def with_cosignatures():
        checkpoint, note = served()
        if note not in cosigned:
            cosigned[note] = note + "".join(w.cosign(note) for w in cosigners)
        return checkpoint, cosigned[note]

    monkeypatch.setattr(proofs, "served_checkpoint", with_cosignatures)
    listed = cosigners if in_service is None else in_service
    monkeypatch.setattr(witnesses, "active_vkeys", lambda: [w.vkey for w in listed])


def evidence_url(entry_id: object) -> str:
    return f"{LOG}entries/{entry_id}/evidence"


def evidence_of(client: APIClient, entry_id: object) -> dict:
    response = client.get(evidence_url(entry_id))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def as_file(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def decided(api, settings, token: str, destination: str = "CN") -> str:  # noqa: ANN001
    """The id of a decision made through the API by `api`'s key, once it is
    in a signed checkpoint."""
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    answer = api.verify(token, destination)
    assert answer.status_code == 200, answer.content
    integrate_all()
    return answer.json()["id"]
