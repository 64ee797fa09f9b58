"""Private key files (identity/jose/key_files.py): `load_private_key`
refuses what it cannot use, without quoting a secret, and reads at most
one mebibyte."""

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ValidationError

from identity.jose.key_files import MAX_KEY_FILE_BYTES, load_private_key, public_jwk_of
from tests.support.private_key_files import refused_key_files

REFUSED_KEY_FILES = refused_key_files()


@pytest.mark.parametrize("case", REFUSED_KEY_FILES)
def test_load_private_key_refuses_unusable_keys_without_quoting_them(tmp_path, case):
    key_file = REFUSED_KEY_FILES[case]
    path = tmp_path / "key.json"
    path.write_text(key_file.content)
    with pytest.raises(ValidationError) as refused:
        load_private_key(path)
    message = " ".join(refused.value.messages)
    assert key_file.message in message, case
    assert key_file.secret not in message


def test_load_private_key_reads_at_most_one_mebibyte(tmp_path):
    big = tmp_path / "big.pem"
    big.write_bytes(b"-" * (MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(ValidationError, match="big.pem is larger than 1048576 bytes"):
        load_private_key(big)
    with pytest.raises(ValidationError, match="/dev/zero is larger than 1048576 bytes"):
        load_private_key(Path("/dev/zero"))


def test_load_private_key_refuses_a_public_jwk(tmp_path):
    path = tmp_path / "public.json"
    path.write_text(json.dumps(public_jwk_of(ed25519.Ed25519PrivateKey.generate())))
    with pytest.raises(ValidationError, match="holds a public JWK; a private key is needed"):
        load_private_key(path)


def test_load_private_key_refuses_unreadable_and_public_files(tmp_path):
    with pytest.raises(ValidationError, match="cannot read private key"):
        load_private_key(tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValidationError, match="no readable unencrypted private key"):
        load_private_key(garbage)
