"""recognition/log/notes.py against c2sp.org/signed-note, tlog-checkpoint and
tlog-cosignature: answers published by others, an implementation we did not
write (Go's golang.org/x/mod/sumdb/note), hostile input and cosignatures.

No database. The Go tests build go/notecheck and are skipped, saying what
is missing, without the Go toolchain or the note package's source (GOPATH
NOTE_GOPATH, default /usr/share/gocode); with REQUIRE_GO=1 they fail instead."""

import base64
import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from recognition.log import notes
from recognition.log.notes import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    NoteError,
    Signature,
    Verifier,
    checkpoint_text,
    cosignature_line,
    cosignature_timestamp,
    key_id,
    parse_checkpoint,
    parse_vkey,
    sign_note,
    signature_line,
    split_note,
    verify_note,
    vkey,
)

# golang.org/x/mod/sumdb/note: note_test.go (TestNewSigner, TestSign,
# TestOpen) and the package documentation.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

# c2sp.org/signed-note, the introduction and §Verifier keys (Example).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
QUASIMODO = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
# c2sp.org/tlog-checkpoint and tlog-cosignature, the introductions: no keys
# are published for them, so their framing is what can be checked.
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_LOG_SIG = (
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SOFA_WITNESS_SIG = (
    "— witness.example.com/w1 "
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

# transparency-dev/formats, note/note_cosigv1_test.go (TestCoSigV1NewVerifier,
# TestCosignatureTimestamp).
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
FORMATS_COSIGNATURE = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)
FORMATS_PLAIN_SIGNATURE = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="

# FiloSottile/sunlight, internal/witness/witness_test.go (TestAddCheckpoint,
# from filippo.io/torchwood's add-checkpoint.hurl): a Sigsum log's key and
# two checkpoints it signed.
SIGSUM_ORIGIN = "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562"
SIGSUM_KEY = bytes.fromhex("ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")
SIGSUM_CHECKPOINTS = {
    1: (
        "KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=",
    ),
    3: (
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=",
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=",
    ),
}

# florolf/tlog-scales, tests/test_signing.py (TestCheckpointVerification): a
# checkpoint of the arche2025h1 staging CT log as published, with the log's
# Ed25519 signature, its RFC 6962 signature (type 0x05) and four witnesses'
# cosignatures (type 0x04), one of them by remora.n621.de above.
ARCHE_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
ARCHE_TEXT = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
ARCHE_SIGNATURES = (
    "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIg"
    "IpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev "
    "ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden "
    "2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "— witness1.smartit.nu/witness1 "
    "pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "— remora.n621.de "
    "2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "— witness.stagemole.eu "
    "Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n"
)
ARCHE_NOTE = ARCHE_TEXT + "\n" + ARCHE_SIGNATURES

ROOT = bytes(range(32))
LOG = "registry.example/log"
WITNESS = "witness.example/w1"


def peter_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert seed[0] == ED25519
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


def names(verifiers: list[Verifier]) -> list[str]:
    return [verifier.name for verifier in verifiers]


def reencode(line: str, change) -> str:
    """A signature line with its decoded bytes passed through change."""
    prefix, encoded = line.rstrip("\n").rsplit(" ", 1)
    return f"{prefix} {base64.b64encode(change(base64.b64decode(encoded))).decode()}\n"


def flip_last_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


# Known answers: Go's note package.


def test_key_id_vkey_and_note_agree_with_gos_published_key():
    key = peter_key()
    assert key_id("PeterNeumann", ED25519, public(key)) == bytes.fromhex("c74f20a3")
    assert vkey("PeterNeumann", public(key)) == PETER_VKEY
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_TEXT + "\n" + PETER_SIG
    assert signature_line(GO_TEXT, "PeterNeumann", key) == PETER_SIG


def test_gos_vkeys_parse_to_their_names_ids_and_keys():
    peter = parse_vkey(PETER_VKEY)
    assert (peter.name, peter.key_id.hex(), peter.sig_type) == ("PeterNeumann", "c74f20a3", ED25519)
    assert peter.public_key == public(peter_key())
    assert vkey(peter.name, peter.public_key) == PETER_VKEY
    assert vkey("EnochRoot", parse_vkey(ENOCH_VKEY).public_key) == ENOCH_VKEY


def test_gos_signatures_verify_and_unknown_ones_are_ignored():
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    peter, enoch = parse_vkey(PETER_VKEY), parse_vkey(ENOCH_VKEY)
    assert verify_note(note, [peter]) == (GO_TEXT, [peter])
    assert verify_note(note.encode(), [enoch, peter]) == (GO_TEXT, [peter, enoch])
    with pytest.raises(NoteError, match="none of the note's 2 signatures is by one of the 0 known keys"):
        verify_note(note, [])


def test_a_known_keys_bad_signature_refuses_the_note():
    # Go's TestOpen: four base64 digits inserted into Peter's signature.
    with pytest.raises(NoteError, match=r"signature by PeterNeumann\+c74f20a3 does not verify"):
        verify_note(GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [parse_vkey(PETER_VKEY)])


def test_repeated_signatures_count_their_key_once():
    # Go's TestOpen: Peter twice, Enoch twice and a mangled Enoch, Enoch unknown.
    note = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    peter = parse_vkey(PETER_VKEY)
    assert verify_note(note, [peter]) == (GO_TEXT, [peter])
    assert len(split_note(note)[1]) == 5


@pytest.mark.parametrize(
    ("note", "why"),
    [
        (GO_TEXT, "no blank line"),
        (GO_TEXT + "\n", "no signature lines"),
        (GO_TEXT + "\n" + PETER_SIG[:-1], "does not end in a newline"),
        ("\x01" + GO_TEXT + "\n" + PETER_SIG, "control character U\\+0001 at position 0"),
        (b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), "not UTF-8 \\(byte 0\\)"),
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), "signature of line 1 is not base64"),
        (GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "line 2 does not start with an em dash"),
        (GO_TEXT + "\n" + PETER_SIG * 101, "101 signature lines, over the limit of 100"),
    ],
    ids=[
        "no-signatures",
        "blank-line-only",
        "no-final-newline",
        "control",
        "not-utf8",
        "name-with-space",
        "stray-line",
        "101",
    ],
)
def test_the_malformed_notes_go_refuses_we_refuse(note, why):
    with pytest.raises(NoteError, match=why):
        verify_note(note, [parse_vkey(PETER_VKEY)])


PETER_KEY = base64.b64decode(PETER_VKEY.split("+", 2)[2])[1:]
BASE64_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def made_vkey(sig_type: int, public_key: bytes, stray_bit: bool = False) -> str:
    """A vkey of PeterNeumann with a key ID that matches whatever key it holds;
    with stray_bit, its base64 sets a bit that padding leaves over."""
    encoded = base64.b64encode(bytes([sig_type]) + public_key).decode()
    if stray_bit:
        last = encoded.rstrip("=")[-1]
        encoded = encoded.replace(last + "=", BASE64_DIGITS[BASE64_DIGITS.index(last) + 1] + "=")
    return f"PeterNeumann+{key_id('PeterNeumann', sig_type, public_key).hex()}+{encoded}"


def vkey_manglings(text: str) -> list[str]:
    """Go's TestNewVerifier: every proper substring, every byte plus one."""
    data = text.encode()
    substrings = {data[i:j] for i in range(len(data) + 1) for j in range(i + 1, len(data) + 1)} - {data}
    bumped = {data[:i] + bytes([data[i] + 1]) + data[i + 1 :] for i in range(len(data))}
    return sorted(mangled.decode() for mangled in substrings | bumped)


def test_every_mangling_of_gos_vkey_is_refused():
    manglings = vkey_manglings(PETER_VKEY)
    assert len(manglings) > 2000
    for mangled in manglings:
        with pytest.raises(NoteError):
            parse_vkey(mangled)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # Go's TestNewVerifier, key IDs adjusted so that only the key is wrong.
        # Go refuses the first for its length; its base64 has stray bits too.
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "not canonical base64"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "signature type 0x65 is unknown"),
        # The same with canonical base64.
        (made_vkey(ED25519, PETER_KEY[:31]), "public key is 31 bytes, not 32"),
        (made_vkey(ED25519, PETER_KEY + b"!"), "public key is 33 bytes, not 32"),
        (made_vkey(0x02, PETER_KEY), "signature type 0x02 is unknown"),
        (made_vkey(ED25519, PETER_KEY[:31], stray_bit=True), "not canonical base64"),
        ("", "three parts"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name is empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "contains a space"),
        ("Peter\u00a0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "contains a space"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex digits"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex digits"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match .*: it is c74f20a3"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", "not base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX", "does not match .*: it is "),
        ("PeterNeumann+c74f20a3+", "has no key"),
        ("PeterNeumann+c74f20a3", "three parts"),
    ],
)
def test_bad_vkeys_are_refused_saying_why(text, why):
    with pytest.raises(NoteError, match=why):
        parse_vkey(text)


# Known answers: the C2SP specifications and other implementations.


def test_the_signed_note_spec_example_verifies_with_its_vkey():
    verifier = parse_vkey(SPEC_VKEY)
    assert verify_note(SPEC_NOTE, [verifier]) == ("This is an example message.\n", [verifier])
    assert vkey("example.com/foo", verifier.public_key) == SPEC_VKEY


def test_the_text_ends_at_the_last_blank_line():
    text, [signature] = split_note(QUASIMODO)
    assert text == "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    assert (signature.name, signature.key_id.hex()) == ("quasimodo.example/salvatore", "367ba04b")
    assert len(signature.signature) == 64


def test_the_checkpoint_spec_example_parses():
    assert parse_checkpoint(SOFA) == Checkpoint(
        "example.com/behind-the-sofa", 20852163, base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    )
    assert checkpoint_text("example.com/behind-the-sofa", 20852163, parse_checkpoint(SOFA).root) == SOFA


def test_the_cosignature_spec_example_states_the_time_of_its_signed_message():
    text, [log, witness] = split_note(SOFA + "\n" + SOFA_LOG_SIG + SOFA_WITNESS_SIG)
    assert text == SOFA
    assert (witness.name, witness.key_id.hex()) == ("witness.example.com/w1", "8d66cf3f")
    assert cosignature_timestamp(witness) == 1679315147  # "time 1679315147" in tlog-cosignature
    with pytest.raises(NoteError, match="72 bytes"):
        cosignature_timestamp(log)


def test_cosignature_timestamps_agree_with_transparency_dev_formats():
    raw = base64.b64decode(FORMATS_COSIGNATURE)
    assert cosignature_timestamp(Signature("w", raw[:4], raw[4:])) == 1727964367
    plain = base64.b64decode(FORMATS_PLAIN_SIGNATURE)
    with pytest.raises(NoteError, match="not 64"):
        cosignature_timestamp(Signature("w", plain[:4], plain[4:]))


def test_vkeys_from_transparency_dev_formats_parse():
    remora = parse_vkey(REMORA_VKEY)
    assert (remora.name, remora.key_id.hex(), remora.sig_type) == ("remora.n621.de", "da77ade7", COSIGNATURE_V1)
    assert vkey(remora.name, remora.public_key, COSIGNATURE_V1) == REMORA_VKEY
    assert parse_vkey(PLUS_VKEY).key_id.hex() == "7997405c"  # its base64 holds a '+'


@pytest.mark.parametrize("size", sorted(SIGSUM_CHECKPOINTS))
def test_a_sigsum_logs_checkpoints_verify(size):
    root, signature = SIGSUM_CHECKPOINTS[size]
    text = f"{SIGSUM_ORIGIN}\n{size}\n{root}\n"
    log = parse_vkey(vkey(SIGSUM_ORIGIN, SIGSUM_KEY))
    assert verify_note(f"{text}\n— {SIGSUM_ORIGIN} {signature}\n", [log]) == (text, [log])
    assert parse_checkpoint(text).size == size


def test_a_published_checkpoint_and_a_witness_cosignature_on_it_verify():
    log, remora = parse_vkey(ARCHE_VKEY), parse_vkey(REMORA_VKEY)
    text, verified = verify_note(ARCHE_NOTE, [log, remora])
    assert verified == [log, remora]
    assert parse_checkpoint(text).size == 1432088532
    assert verify_note(ARCHE_NOTE, [remora]) == (ARCHE_TEXT, [remora])
    witness_signatures = split_note(ARCHE_NOTE)[1][2:]
    assert {cosignature_timestamp(signature) for signature in witness_signatures} == {1779573024}


def test_a_published_cosignature_fails_on_another_size_or_a_flipped_bit():
    remora = parse_vkey(REMORA_VKEY)
    with pytest.raises(NoteError, match=r"remora.n621.de\+da77ade7 does not verify"):
        verify_note(ARCHE_NOTE.replace("1432088532", "1432088533"), [remora])
    lines = ARCHE_SIGNATURES.splitlines(keepends=True)
    lines[4] = reencode(lines[4], flip_last_byte)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(ARCHE_TEXT + "\n" + "".join(lines), [remora])


# An implementation we did not write: go/notecheck, built on Go's note package.

GO_SOURCES = Path(os.environ.get("NOTE_GOPATH", "/usr/share/gocode"))
GO_NOTE_PACKAGE = GO_SOURCES / "src" / "golang.org" / "x" / "mod" / "sumdb" / "note" / "note.go"
NOTECHECK_SOURCE = Path(__file__).resolve().parent / "go" / "notecheck"


def _build_go_program(source_dir: Path, output: Path) -> Path:
    """Builds the Go program of source_dir into output, in GOPATH mode with the
    packages of GO_SOURCES, offline, caching under output's directory."""
    work = output.parent
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": os.pathsep.join([str(work / "gopath"), str(GO_SOURCES)]),
        "GOCACHE": str(work / "gocache"),
        "GOPROXY": "off",
        "GOFLAGS": "",
    }
    go = shutil.which("go") or "go"
    built = subprocess.run(
        [go, "build", "-o", str(output), "."],
        cwd=source_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(f"go build of {source_dir} failed:\n{built.stderr}")
    return output


@pytest.fixture(scope="module")
def notecheck(tmp_path_factory) -> Path:
    missing = None
    if shutil.which("go") is None:
        missing = "needs the Go toolchain: no `go` on PATH"
    elif not GO_NOTE_PACKAGE.is_file():
        missing = f"needs the source of golang.org/x/mod/sumdb/note: no {GO_NOTE_PACKAGE}"
    if missing:
        if os.environ.get("REQUIRE_GO") == "1":
            pytest.fail(f"REQUIRE_GO=1 but {missing}")
        pytest.skip(missing)
    return _build_go_program(NOTECHECK_SOURCE, tmp_path_factory.mktemp("notecheck") / "notecheck")


def go_verify(notecheck: Path, tmp_path: Path, note: str, *vkeys: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "note"
    path.write_bytes(note.encode())
    return subprocess.run([notecheck, "verify", path, *vkeys], capture_output=True, text=True, timeout=30, check=False)


def go_sign(notecheck: Path, tmp_path: Path, name: str, text: str) -> tuple[str, str]:
    path = tmp_path / "text"
    path.write_bytes(text.encode())
    signed = subprocess.run([notecheck, "sign", name, path], capture_output=True, text=True, timeout=30, check=True)
    answer = json.loads(signed.stdout)
    return answer["vkey"], answer["note"]


def test_a_checkpoint_we_sign_verifies_in_go(notecheck, tmp_path):
    key = Ed25519PrivateKey.generate()
    note = sign_note(checkpoint_text(LOG, 42, ROOT), LOG, key)
    checked = go_verify(notecheck, tmp_path, note, vkey(LOG, public(key)))
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, f"{LOG}\n", "")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda note: note.replace("\n42\n", "\n43\n", 1),
        lambda note: note.replace(LOG, "registry.example/lag", 1),
        lambda note: note[: note.index("— ")] + reencode(note[note.index("— ") :], flip_last_byte),
        lambda note: note[: note.index("— ")] + reencode(note[note.index("— ") :], lambda raw: raw[:4] + bytes(64)),
    ],
    ids=["size", "origin", "signature-bit", "signature-zeroed"],
)
def test_go_refuses_our_checkpoint_with_a_tampered_byte(notecheck, tmp_path, tamper):
    key = Ed25519PrivateKey.generate()
    note = sign_note(checkpoint_text(LOG, 42, ROOT), LOG, key)
    checked = go_verify(notecheck, tmp_path, tamper(note), vkey(LOG, public(key)))
    assert checked.returncode == 1
    assert f"invalid signature for key {LOG}+" in checked.stderr
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(tamper(note), [parse_vkey(vkey(LOG, public(key)))])


def test_go_verifies_our_cosignature_and_ignores_signatures_it_does_not_know(notecheck, tmp_path):
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = checkpoint_text(LOG, 42, ROOT)
    note = sign_note(text, LOG, log_key) + cosignature_line(text, WITNESS, witness_key, 1_700_000_000)
    log_vkey, witness_vkey = vkey(LOG, public(log_key)), vkey(WITNESS, public(witness_key), COSIGNATURE_V1)
    assert go_verify(notecheck, tmp_path, note, log_vkey, witness_vkey).stdout == f"{LOG}\n{WITNESS}\n"
    assert go_verify(notecheck, tmp_path, note, log_vkey).stdout == f"{LOG}\n"
    assert go_verify(notecheck, tmp_path, note, witness_vkey).stdout == f"{WITNESS}\n"
    later = note[: note.rindex("— ")] + reencode(
        note[note.rindex("— ") :], lambda raw: raw[:4] + (1_700_000_001).to_bytes(8, "big") + raw[12:]
    )
    refused = go_verify(notecheck, tmp_path, later, log_vkey, witness_vkey)
    assert refused.returncode == 1
    assert f"invalid signature for key {WITNESS}+" in refused.stderr


def test_a_note_go_signs_verifies_with_us(notecheck, tmp_path):
    text = checkpoint_text("go.example/log", 7, ROOT)
    go_vkey, note = go_sign(notecheck, tmp_path, "go.example/log", text)
    verifier = parse_vkey(go_vkey)
    assert vkey(verifier.name, verifier.public_key) == go_vkey
    assert verify_note(note, [verifier]) == (text, [verifier])
    assert parse_checkpoint(text) == Checkpoint("go.example/log", 7, ROOT)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda note: note.replace("\n7\n", "\n8\n", 1),
        lambda note: note[: note.index("— ")] + reencode(note[note.index("— ") :], flip_last_byte),
    ],
    ids=["text", "signature"],
)
def test_a_note_go_signs_is_refused_by_us_once_tampered(notecheck, tmp_path, tamper):
    go_vkey, note = go_sign(notecheck, tmp_path, "go.example/log", checkpoint_text("go.example/log", 7, ROOT))
    with pytest.raises(NoteError, match=r"signature by go.example/log\+[0-9a-f]{8} does not verify"):
        verify_note(tamper(note), [parse_vkey(go_vkey)])


# Hostile input: every refusal is a NoteError that says what is wrong.

GOOD_KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
GOOD_VKEY = vkey(LOG, public(GOOD_KEY))
GOOD_TEXT = checkpoint_text(LOG, 42, ROOT)
GOOD_NOTE = sign_note(GOOD_TEXT, LOG, GOOD_KEY)
GOOD_LINE = GOOD_NOTE[len(GOOD_TEXT) + 1 :]


@pytest.mark.parametrize(
    ("note", "why"),
    [
        ("", "no blank line"),
        (b"", "no blank line"),
        (GOOD_NOTE[:-1], "does not end in a newline"),
        (GOOD_TEXT + GOOD_LINE, "no blank line"),
        (GOOD_TEXT + "\n" + GOOD_LINE[2:], "line 1 does not start with an em dash"),
        (GOOD_TEXT + "\n" + GOOD_LINE.replace("—", "-"), "does not start with an em dash"),
        (GOOD_TEXT + "\n" + GOOD_LINE.replace("—", "–"), "does not start with an em dash"),
        (GOOD_TEXT + "\n— registry.example/log\n", "no space between the key name and the signature"),
        (GOOD_TEXT + "\n— registry.example/log !!!!\n", "signature of line 1 is not base64"),
        (GOOD_TEXT + "\n— registry.example/log AAAA\n", "3 bytes: a key ID and a signature are at least 5"),
        (GOOD_TEXT + "\n— registry.example/log AAAAAAB=\n", "not canonical base64"),
        (GOOD_TEXT + "\n— registry.example/log AAAAAAA\n", "not base64"),
        (GOOD_TEXT + "\n— a+b AAAAAAA=\n", "key name of signature line 1 'a\\+b' contains a plus"),
        (GOOD_TEXT + "\n— " + " AAAAAAA=\n", "key name of signature line 1 is empty"),
        (GOOD_NOTE + "\n", "no signature lines after its last blank line"),
        (GOOD_NOTE.replace("\n", "\r\n"), "control character U\\+000D"),
        (GOOD_NOTE.replace("42", "4\x002"), "control character U\\+0000"),
        (GOOD_NOTE.replace("42", "4\t2"), "control character U\\+0009"),
        (GOOD_NOTE.encode().replace(b"42", b"4\xc0\xaf2"), "not UTF-8"),
        (GOOD_NOTE.encode().replace(b"42", b"4\xed\xa0\x802"), "not UTF-8"),
        (GOOD_NOTE.replace("42", "4\ud8002"), "cannot be UTF-8: a lone surrogate"),
        (GOOD_TEXT + "\n" + GOOD_LINE * 101, "101 signature lines"),
        (b"x" * (2 << 20), "2097152 bytes, over the limit of 1048576"),
        ("x" * (2 << 20), "over the limit of 1048576"),
        ("é" * (600 << 10), "over the limit of 1048576"),
        (None, "str or bytes, not NoneType"),
    ],
)
def test_malformed_notes_are_refused_saying_why(note, why):
    with pytest.raises(NoteError, match=why):
        split_note(note)
    with pytest.raises(NoteError, match=why):
        verify_note(note, [parse_vkey(GOOD_VKEY)])


def test_a_note_of_exactly_one_mebibyte_is_read():
    room = (1 << 20) - len(GOOD_LINE.encode()) - 1
    text = GOOD_TEXT + "x" * (room - len(GOOD_TEXT) - 1) + "\n"
    note = sign_note(text, LOG, GOOD_KEY)
    assert len(note.encode()) == 1 << 20
    assert verify_note(note, [parse_vkey(GOOD_VKEY)])[0] == text
    with pytest.raises(NoteError, match="would be over 1048576 bytes"):
        sign_note("x" + text, LOG, GOOD_KEY)


def test_sixteen_signatures_and_up_to_a_hundred_are_read():
    lines = [GOOD_LINE] * 100
    text, signatures = split_note(GOOD_TEXT + "\n" + "".join(lines))
    assert (text, len(signatures)) == (GOOD_TEXT, 100)


def test_a_signature_with_the_right_name_and_a_wrong_key_id_is_ignored():
    other_id = reencode(GOOD_LINE, lambda raw: bytes([raw[0] ^ 1]) + raw[1:])
    known = parse_vkey(GOOD_VKEY)
    assert verify_note(GOOD_TEXT + "\n" + other_id + GOOD_LINE, [known]) == (GOOD_TEXT, [known])
    with pytest.raises(NoteError, match="none of the note's 1 signatures is by one of the 1 known keys"):
        verify_note(GOOD_TEXT + "\n" + other_id, [known])


def test_a_signature_with_the_right_key_id_and_another_name_is_ignored():
    renamed = GOOD_LINE.replace(LOG, "registry.example/other")
    with pytest.raises(NoteError, match="none of the note's 1 signatures"):
        verify_note(GOOD_TEXT + "\n" + renamed, [parse_vkey(GOOD_VKEY)])


def test_a_bad_signature_by_a_known_key_refuses_the_note_beside_a_good_one():
    bad = reencode(GOOD_LINE, flip_last_byte)
    for lines in (GOOD_LINE + bad, bad + GOOD_LINE):
        with pytest.raises(NoteError, match=rf"signature by {LOG}\+[0-9a-f]{{8}} does not verify"):
            verify_note(GOOD_TEXT + "\n" + lines, [parse_vkey(GOOD_VKEY)])
    short = reencode(GOOD_LINE, lambda raw: raw[:-1])
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(GOOD_TEXT + "\n" + short, [parse_vkey(GOOD_VKEY)])


def test_duplicate_signatures_count_their_key_once():
    known = parse_vkey(GOOD_VKEY)
    assert verify_note(GOOD_TEXT + "\n" + GOOD_LINE * 3, [known, known]) == (GOOD_TEXT, [known])


def test_two_keys_with_one_name_and_key_id_are_refused(monkeypatch):
    # Key IDs are 32 bits, so a colliding key can be computed on purpose.
    monkeypatch.setattr(notes, "key_id", lambda name, sig_type, public_key: b"\0\0\0\0")
    first = Verifier(LOG, b"\0\0\0\0", ED25519, public(GOOD_KEY))
    second = Verifier(LOG, b"\0\0\0\0", ED25519, public(Ed25519PrivateKey.generate()))
    with pytest.raises(NoteError, match=r"two different keys have the name and key ID registry.example/log\+00000000"):
        verify_note(GOOD_NOTE, [first, second])


def test_verifiers_are_checked_when_made():
    key = public(GOOD_KEY)
    with pytest.raises(NoteError, match="does not match the name and key"):
        Verifier(LOG, b"\0\0\0\0", ED25519, key)
    with pytest.raises(NoteError, match="unknown signature type 2"):
        Verifier(LOG, key_id(LOG, 2, key), 2, key)
    with pytest.raises(NoteError, match="32 bytes, not 31"):
        Verifier(LOG, key_id(LOG, ED25519, key[:31]), ED25519, key[:31])
    with pytest.raises(NoteError, match="a verifier is a Verifier"):
        verify_note(GOOD_NOTE, [GOOD_VKEY])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (f"{LOG}\n007\n{base64.b64encode(ROOT).decode()}\n", "'007' is not a decimal"),
        (f"{LOG}\n-1\n{base64.b64encode(ROOT).decode()}\n", "'-1' is not a decimal"),
        (f"{LOG}\n+1\n{base64.b64encode(ROOT).decode()}\n", "'\\+1' is not a decimal"),
        (f"{LOG}\n 1\n{base64.b64encode(ROOT).decode()}\n", "' 1' is not a decimal"),
        (f"{LOG}\n\u0661\n{base64.b64encode(ROOT).decode()}\n", "is not a decimal"),
        (f"{LOG}\n{1 << 63}\n{base64.b64encode(ROOT).decode()}\n", "is not a decimal up to 2\\^63 - 1"),
        (f"{LOG}\n{'9' * 5000}\n{base64.b64encode(ROOT).decode()}\n", "is not a decimal"),
        (f"{LOG}\n\n{base64.b64encode(ROOT).decode()}\n", "'' is not a decimal"),
        (f"{LOG}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "root hash is 31 bytes, not 32"),
        (f"{LOG}\n1\n{base64.b64encode(ROOT + b'!').decode()}\n", "root hash is 33 bytes, not 32"),
        (f"{LOG}\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", "root hash is not canonical base64"),
        (f"{LOG}\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", "root hash is not base64"),
        (f"{LOG}\n1\n{base64.urlsafe_b64encode(bytes([251] * 32)).decode()}\n", "root hash is not base64"),
        (f"\n1\n{base64.b64encode(ROOT).decode()}\n", "origin line is empty"),
        (f"{LOG}\n1\n{base64.b64encode(ROOT).decode()}\n\n", "extension line 4 of the checkpoint is empty"),
        (f"{LOG}\n1\n{base64.b64encode(ROOT).decode()}\next\n\n", "extension line 5 of the checkpoint is empty"),
        (f"{LOG}\n1\n{base64.b64encode(ROOT).decode()}", "ends in a newline"),
        (f"{LOG}\n1\n", "at least three lines"),
        ("", "ends in a newline"),
        (f"{LOG}\r\n1\n{base64.b64encode(ROOT).decode()}\n", "control character U\\+000D"),
        (GOOD_NOTE, "extension line 4 of the checkpoint is empty"),
    ],
)
def test_malformed_checkpoints_are_refused_saying_why(text, why):
    with pytest.raises(NoteError, match=why):
        parse_checkpoint(text)


def test_checkpoints_keep_their_extension_lines_and_the_empty_tree():
    text = GOOD_TEXT + "ext one\next two\n"
    assert parse_checkpoint(text) == Checkpoint(LOG, 42, ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(checkpoint_text(LOG, 0, ROOT)).size == 0
    assert parse_checkpoint(checkpoint_text(LOG, (1 << 63) - 1, ROOT)).size == (1 << 63) - 1


@pytest.mark.parametrize(
    ("origin", "size", "root", "why"),
    [
        ("", 1, ROOT, "origin is a non-empty line"),
        ("a\nb", 1, ROOT, "origin is a non-empty line"),
        ("a\rb", 1, ROOT, "control character U\\+000D"),
        (LOG, -1, ROOT, "tree size is a whole number"),
        (LOG, 1 << 63, ROOT, "tree size is a whole number"),
        (LOG, True, ROOT, "tree size is a whole number"),
        (LOG, 1, ROOT[:31], "root hash is 32 bytes, not 31"),
        (LOG, 1, "00" * 32, "root hash is 32 bytes, not '00"),
    ],
)
def test_checkpoint_text_refuses_what_is_not_a_checkpoint(origin, size, root, why):
    with pytest.raises(NoteError, match=why):
        checkpoint_text(origin, size, root)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("no newline", "ends in a newline"),
        ("tab\there\n", "control character U\\+0009"),
        ("surrogate \udc80\n", "lone surrogate"),
        (b"bytes\n", "a note text is a str, not bytes"),
    ],
)
def test_signing_refuses_bad_texts(text, why):
    with pytest.raises(NoteError, match=why):
        sign_note(text, LOG, GOOD_KEY)
    with pytest.raises(NoteError, match=why):
        signature_line(text, LOG, GOOD_KEY)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "key name is empty"),
        ("a b", "contains a space"),
        ("a+b", "contains a plus"),
        ("a\u2028b", "contains a space"),
        ("a\x7fb\x00", "control character U\\+0000"),
        ("a\udc80", "lone surrogate"),
    ],
)
def test_signing_and_vkeys_refuse_bad_key_names(name, why):
    with pytest.raises(NoteError, match=why):
        sign_note(GOOD_TEXT, name, GOOD_KEY)
    with pytest.raises(NoteError, match=why):
        cosignature_line(GOOD_TEXT, name, GOOD_KEY, TIME)
    with pytest.raises(NoteError, match=why):
        vkey(name, public(GOOD_KEY))


def test_signing_needs_an_ed25519_private_key():
    with pytest.raises(NoteError, match="not bytes"):
        sign_note(GOOD_TEXT, LOG, bytes(32))  # type: ignore[arg-type]


NOTE_PIECES = [
    "\n",
    "\n\n",
    "— ",
    "—",
    " ",
    "+",
    "=",
    "é",
    "\x00",
    "\r",
    LOG,
    "AAAA",
    GOOD_TEXT,
    GOOD_LINE,
    GOOD_LINE[:-1],
    reencode(GOOD_LINE, flip_last_byte),
    SPEC_NOTE,
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_split_or_are_refused_with_a_note_error(data):
    try:
        text, signatures = split_note(data)
    except NoteError:
        return
    assert data.decode().startswith(text)
    assert 1 <= len(signatures) <= 100


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(NOTE_PIECES), max_size=12).map("".join))
def test_notes_pieced_together_verify_or_are_refused_with_a_note_error(note):
    try:
        text, verified = verify_note(note, [parse_vkey(GOOD_VKEY), parse_vkey(SPEC_VKEY)])
    except NoteError:
        return
    assert verified
    assert note.startswith(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("+0123456789abcdefABCDEF/=\n —é" + PETER_VKEY), max_size=90))
def test_any_text_parses_as_a_vkey_or_is_refused_with_a_note_error(text):
    with contextlib.suppress(NoteError):
        parse_vkey(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([LOG, "\n", "0", "1", "07", "-", "AAAA", "=", base64.b64encode(ROOT).decode()])))
def test_any_text_parses_as_a_checkpoint_or_is_refused_with_a_note_error(pieces):
    text = "".join(pieces)
    try:
        checkpoint = parse_checkpoint(text)
    except NoteError:
        return
    assert text.startswith(checkpoint_text(checkpoint.origin, checkpoint.size, checkpoint.root))


# Cosignatures (tlog-cosignature, type 0x04).

WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
WITNESS_VKEY = vkey(WITNESS, public(WITNESS_KEY), COSIGNATURE_V1)
TIME = 1_700_000_000


def test_a_cosignature_verifies_with_its_type_4_vkey_and_states_its_time():
    line = cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, TIME)
    witness = parse_vkey(WITNESS_VKEY)
    assert witness.key_id == key_id(WITNESS, COSIGNATURE_V1, public(WITNESS_KEY))
    assert verify_note(GOOD_TEXT + "\n" + line, [witness]) == (GOOD_TEXT, [witness])
    text, verified = verify_note(GOOD_NOTE + line, [parse_vkey(GOOD_VKEY), witness])
    assert (text, names(verified)) == (GOOD_TEXT, [LOG, WITNESS])
    [signature] = split_note(GOOD_TEXT + "\n" + line)[1]
    assert cosignature_timestamp(signature) == TIME
    assert len(signature.signature) == 72


def test_a_cosignature_signs_the_message_the_spec_gives():
    line = cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, TIME)
    raw = base64.b64decode(line.split(" ")[2])
    message = f"cosignature/v1\ntime {TIME}\n{GOOD_TEXT}".encode()
    WITNESS_KEY.public_key().verify(raw[12:], message)
    assert raw[4:12] == TIME.to_bytes(8, "big")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw: raw[:4] + (TIME + 1).to_bytes(8, "big") + raw[12:],
        lambda raw: raw[:4] + (1 << 63).to_bytes(8, "big") + raw[12:],
        flip_last_byte,
        lambda raw: raw[:-1],
        lambda raw: raw[:4] + raw[12:],
    ],
    ids=["later", "over-2^63-1", "signature-bit", "short", "no-timestamp"],
)
def test_a_cosignature_with_a_changed_timestamp_or_signature_fails(tamper):
    line = reencode(cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, TIME), tamper)
    with pytest.raises(NoteError, match=rf"signature by {WITNESS}\+[0-9a-f]{{8}} does not verify"):
        verify_note(GOOD_NOTE + line, [parse_vkey(GOOD_VKEY), parse_vkey(WITNESS_VKEY)])


def test_a_cosignature_stating_a_time_past_2_63_is_refused_though_its_signature_holds():
    late = 1 << 63
    signature = WITNESS_KEY.sign(f"cosignature/v1\ntime {late}\n{GOOD_TEXT}".encode())
    raw = key_id(WITNESS, COSIGNATURE_V1, public(WITNESS_KEY)) + late.to_bytes(8, "big") + signature
    line = f"— {WITNESS} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(GOOD_TEXT + "\n" + line, [parse_vkey(WITNESS_VKEY)])


def test_a_cosignature_on_another_checkpoint_body_fails():
    line = cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, TIME)
    for other in (checkpoint_text(LOG, 43, ROOT), checkpoint_text(LOG, 42, bytes(32)), GOOD_TEXT + "extension\n"):
        with pytest.raises(NoteError, match="does not verify"):
            verify_note(other + "\n" + line, [parse_vkey(WITNESS_VKEY)])


def test_a_cosignature_covers_the_extension_lines():
    text = GOOD_TEXT + "extension one\n"
    line = cosignature_line(text, WITNESS, WITNESS_KEY, TIME)
    assert verify_note(text + "\n" + line, [parse_vkey(WITNESS_VKEY)])[0] == text
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(text.replace("one", "two") + "\n" + line, [parse_vkey(WITNESS_VKEY)])


def test_a_cosignature_and_a_plain_signature_by_one_key_are_not_confused():
    plain = parse_vkey(vkey(WITNESS, public(WITNESS_KEY)))
    cosigner = parse_vkey(WITNESS_VKEY)
    assert plain.key_id != cosigner.key_id
    cosigned = GOOD_TEXT + "\n" + cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, TIME)
    signed = GOOD_TEXT + "\n" + signature_line(GOOD_TEXT, WITNESS, WITNESS_KEY)
    for note, verifier in ((cosigned, plain), (signed, cosigner)):
        with pytest.raises(NoteError, match="none of the note's 1 signatures"):
            verify_note(note, [verifier])


@pytest.mark.parametrize(
    ("checkpoint", "timestamp", "why"),
    [
        (GOOD_TEXT, -1, "timestamp is POSIX seconds from 0 to 2\\^63 - 1, not -1"),
        (GOOD_TEXT, 1 << 63, "not 9223372036854775808"),
        (GOOD_TEXT, True, "not True"),
        (GOOD_TEXT, 1.5, "not 1.5"),
        ("just a note\n", TIME, "at least three lines"),
        (GOOD_NOTE, TIME, "extension line 4 of the checkpoint is empty"),
    ],
)
def test_cosignature_line_refuses_what_it_cannot_sign(checkpoint, timestamp, why):
    with pytest.raises(NoteError, match=why):
        cosignature_line(checkpoint, WITNESS, WITNESS_KEY, timestamp)


def test_the_earliest_and_latest_timestamps_round_trip():
    for timestamp in (0, (1 << 63) - 1):
        line = cosignature_line(GOOD_TEXT, WITNESS, WITNESS_KEY, timestamp)
        [signature] = split_note(GOOD_TEXT + "\n" + line)[1]
        assert cosignature_timestamp(signature) == timestamp
        assert verify_note(GOOD_TEXT + "\n" + line, [parse_vkey(WITNESS_VKEY)])[0] == GOOD_TEXT
    with pytest.raises(NoteError, match="9223372036854775808 is over 2\\^63 - 1"):
        cosignature_timestamp(Signature(WITNESS, b"\0" * 4, (1 << 63).to_bytes(8, "big") + bytes(64)))
