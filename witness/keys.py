"""The witness's Ed25519 private key: a PEM (PKCS#8) file, mode 0600, made
on the first run (recognition/key_files.py writes it atomically, 0600 from
the first byte, never over an existing file).

A key file readable by others is refused rather than used, as ssh does: a
witness key that leaked lets anyone cosign a forked history in its name.
"""

import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recognition.key_files import MAX_KEY_FILE_BYTES, write_key_file


class KeyFileError(Exception):
    """The key file cannot be used; the message names it and why."""


def read_key(path: Path) -> Ed25519PrivateKey | None:
    """The key in `path`, or None when there is no file yet."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"key file {path} is readable by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"`chmod 600 {path}` and check that nobody copied it"
            )
        if info.st_size > MAX_KEY_FILE_BYTES:
            raise KeyFileError(f"key file {path} is too large to be a PEM private key")
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's message is not echoed: it may quote the file.
        raise KeyFileError(f"key file {path} holds no unencrypted PEM private key (expected Ed25519, PKCS#8)") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFileError(f"key file {path} holds a key that is not Ed25519; a witness cosigns with Ed25519")
    return private_key


def create_key(path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write a new key file; one that appeared meanwhile is never overwritten."""
    try:
        written = write_key_file(path, private_key, replace=False)
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be created: {exc.strerror}") from None
    if not written:
        raise KeyFileError(f"key file {path} appeared while this witness was starting; start it again")
