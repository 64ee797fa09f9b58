"""The witness against an implementation we did not write, and against the
C2SP specifications' own examples.

aics-tlog (PyPI, pinned in requirements-interop.txt) implements C2SP
signed-note, tlog-checkpoint and tlog-cosignature v1 on its own: its
verifier checks our cosignatures, and checkpoints and consistency proofs it
builds are what our witness checks. Go's golang.org/x/mod/sumdb/note has no
cosignature/v1 (type 0x04) verifier, so it cannot serve here.

The specifications' examples come without their keys (tests/data/c2sp):
they are parsed, and our signed message is checked byte for byte against
the example message of tlog-cosignature; they cannot be verified.
"""

import base64
from pathlib import Path

import aics_tlog
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from recognition.log.notes import (
    COSIGNATURE_V1,
    NoteError,
    cosignature_line,
    cosignature_timestamp,
    parse_checkpoint,
    parse_vkey,
    split_note,
    vkey,
)
from recognition.log.witnessing import request_body
from tests.support.signed_logs import SignedLog, make_witness

C2SP = Path(__file__).resolve().parents[1] / "data" / "c2sp"


def their_witness_key(vkey: str) -> aics_tlog.VKey:
    """Our vkey text, read by their parser."""
    return aics_tlog.parse_vkey(vkey)


def test_their_verifier_accepts_our_cosignatures_and_refuses_an_altered_one(tmp_path):
    log = SignedLog().grow(9)
    witness = make_witness(tmp_path, log)
    cosigned = log.checkpoint() + witness.add_checkpoint(log.request(0)).body.decode()
    note = aics_tlog.parse_note(cosigned)
    log_key, witness_key = aics_tlog.parse_vkey(log.vkey), their_witness_key(witness.vkey)
    assert witness_key.key_type == COSIGNATURE_V1
    result = aics_tlog.verify_checkpoint(note, log_key, [witness_key], quorum=1)
    assert result.ok, result.error
    assert result.witnesses == ["witness.example/cn"]
    blob = note.signatures[-1].signature
    assert result.timestamps["witness.example/cn"] == int.from_bytes(blob[:8], "big")
    assert aics_tlog.verify_cosignature(
        blob, witness_key.name, witness_key.public_key, log.origin, log.size, log.root()
    )
    altered = cosigned.replace(f"\n{log.size}\n", f"\n{log.size + 1}\n", 1)
    assert not aics_tlog.verify_checkpoint(aics_tlog.parse_note(altered), log_key, [witness_key], quorum=1).ok
    other = aics_tlog.cosignature_vkey("witness.example/cn", Ed25519PrivateKey.generate().public_key())
    assert not aics_tlog.verify_checkpoint(note, log_key, [other], quorum=1).ok


def test_their_verifier_accepts_our_cosignature_over_extension_lines(tmp_path):
    key = Ed25519PrivateKey.generate()
    text = SignedLog().grow(3).text() + "extension line\n"
    line = cosignature_line(text, "witness.example/cn", key, timestamp=1_790_000_000)
    checkpoint = parse_checkpoint(text)
    blob = aics_tlog.parse_note(text + "\n" + line).signatures[0].signature
    public = key.public_key()
    assert aics_tlog.verify_cosignature(
        blob, "witness.example/cn", public, checkpoint.origin, 3, checkpoint.root, ["extension line"]
    )
    assert not aics_tlog.verify_cosignature(blob, "witness.example/cn", public, checkpoint.origin, 3, checkpoint.root)


def test_our_witness_accepts_their_checkpoints_and_proofs_and_refuses_a_fork(tmp_path):
    origin = "registry.example/log"
    log_key = Ed25519PrivateKey.generate()
    log_vkey = aics_tlog.format_vkey(aics_tlog.vkey_from_ed25519(origin, log_key.public_key()))
    witness = make_witness(tmp_path, vkeys=[log_vkey])
    entries = [f"entry {n}".encode() for n in range(300)]

    def signed(tree: aics_tlog.MerkleTree, size: int) -> str:
        checkpoint = aics_tlog.Checkpoint(origin, size, tree.root(size))
        return aics_tlog.sign_checkpoint(checkpoint, log_key, origin).serialise()

    tree = aics_tlog.MerkleTree(entries)
    assert witness.add_checkpoint(request_body(0, [], signed(tree, 17))).status == 200
    assert witness.add_checkpoint(request_body(17, tree.consistency_proof(17, 300), signed(tree, 300))).status == 200
    fork = aics_tlog.MerkleTree([*entries[:250], *[b"other" for _ in range(60)]])
    answer = witness.add_checkpoint(request_body(300, fork.consistency_proof(300, 310), signed(fork, 310)))
    assert answer.status == 422


def test_the_example_request_is_refused_as_not_ours_to_witness(tmp_path):
    witness = make_witness(tmp_path, SignedLog().grow(2))
    answer = witness.add_checkpoint((C2SP / "tlog-witness-request.txt").read_bytes())
    assert (answer.status, answer.body) == (
        404,
        b"this witness does not witness the log 'example.com/behind-the-sofa'\n",
    )


def test_the_example_response_is_three_cosignature_lines():
    """tlog-witness: a client may concatenate the response to the checkpoint
    and verify it as a note; without the keys it can only be parsed."""
    checkpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    response = (C2SP / "tlog-witness-response.txt").read_text()
    _, signatures = split_note(checkpoint + "\n" + response)
    assert [signature.name for signature in signatures] == ["witness.example/w1"] * 2 + ["witness.example/w2"]
    assert all(len(signature.signature) == 72 for signature in signatures)  # timestamp and Ed25519
    # The example's bytes are made up: two of its timestamps are over the
    # specification's own bound of 2^63 - 1, and a verifier refuses them.
    with pytest.raises(NoteError, match="is over 2\\^63 - 1"):
        cosignature_timestamp(signatures[0])


def test_the_example_cosignature_parses_as_the_specification_says():
    text, signatures = split_note((C2SP / "tlog-cosignature-checkpoint.txt").read_text())
    log_line, cosignature = signatures
    assert parse_checkpoint(text).size == 20852163
    assert (cosignature.name, cosignature.key_id.hex()) == ("witness.example.com/w1", "8d66cf3f")
    assert cosignature_timestamp(cosignature) == 1679315147  # the time of the example's signed message
    assert len(log_line.signature) == 64


@pytest.mark.parametrize("extension", ["", "extension line\n"])
def test_our_cosignature_signs_the_specifications_message(extension):
    """tlog-cosignature §Ed25519 signed message, the example: our line's
    signature verifies over the example's message, byte for byte."""
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" + extension
    key = Ed25519PrivateKey.generate()
    line = cosignature_line(text, "witness.example.com/w1", key, timestamp=1679315147)
    raw = base64.b64decode(line.split()[-1])
    expected_key_id = parse_vkey(
        vkey("witness.example.com/w1", key.public_key().public_bytes_raw(), COSIGNATURE_V1)
    ).key_id
    assert raw[:4] == expected_key_id and raw[4:12] == (1679315147).to_bytes(8, "big")
    message = (C2SP / "tlog-cosignature-message.txt").read_bytes() + extension.encode()
    Ed25519PublicKey.from_public_bytes(key.public_key().public_bytes_raw()).verify(raw[12:], message)
