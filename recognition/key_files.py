"""The registry's own private keys, each a PEM file a setting names: the key
that signs trust lists (REGISTRY_SIGNING_KEY, DESIGN §8, §10) and the key of
the audit log (AUDIT_LOG_KEY, DESIGN §6). Private keys never enter the
database; only their public halves are recorded.

The file is the one source of the current key. Every use stats it and the
parsed key is cached by (path, mtime_ns, inode), so when a rotation command
replaces the file (atomically, by rename) every worker process signs with the
new key from its next use on, without a restart. In development (DEBUG on) a
missing file is generated, mode 0600; in production it is a configuration
error naming the setting.
"""

import os
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_KEY_FILE_BYTES = 64 * 1024


def kind_of(private_key: Any) -> str:
    """What a key is, for a refusal that never quotes it."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return f"an RSA key ({private_key.key_size} bits)"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return f"an EC key on {private_key.curve.name}"
    return "a key of an unsupported type"


def write_key_file(path: Path, private_key: Any, *, replace: bool) -> bool:
    """Write a PEM (PKCS#8) key into `path` atomically, mode 0600 from the
    first byte (mkstemp). `replace=False` never overwrites: it returns False
    when another process created the file first, and that file is kept."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".registry-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)  # readers see the old file or the new one, never half of one
            return True
        try:
            os.link(temporary, path)  # fails if the file exists: no-overwrite creation
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


@dataclass
class PemKeyFile:
    """One setting's key file. `describe(private_key, path)` turns a parsed
    key into what its users need, raising ImproperlyConfigured for a key of
    the wrong kind; `generate()` makes a new key."""

    setting: str
    path_of: Callable[[], str]
    describe: Callable[[Any, Path], Any]
    generate: Callable[[], Any]
    expected: str  # "EC P-256 or Ed25519", for messages
    rotate_command: str
    _cache: dict[tuple[str, int, int], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def path(self) -> Path:
        value = str(self.path_of())
        if not value.strip():
            raise ImproperlyConfigured(f"{self.setting} is empty; set it to the path of the registry's PEM private key")
        return Path(value)

    def read(self, path: Path) -> Any:
        """The key in `path`; FileNotFoundError passes through, every other
        problem is an ImproperlyConfigured naming the setting."""
        try:
            info = path.stat()
            cache_key = (str(path), info.st_mtime_ns, info.st_ino)
            if cache_key in self._cache:
                return self._cache[cache_key]
            if not stat.S_ISREG(info.st_mode):
                raise ImproperlyConfigured(f"{self.setting} {path} is not a regular file")
            if info.st_size > MAX_KEY_FILE_BYTES:
                raise ImproperlyConfigured(f"{self.setting} {path} is too large to be a PEM private key")
            data = path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise ImproperlyConfigured(f"{self.setting} {path} cannot be read: {exc.strerror}") from None
        try:
            private_key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # The library's own message is not echoed: it may quote the file.
            raise ImproperlyConfigured(
                f"{self.setting} {path} holds no unencrypted PEM private key (expected {self.expected}, "
                "PKCS#8 or SEC 1)"
            ) from None
        described = self.describe(private_key, path)
        self._cache.clear()  # one key file at a time; a rotation replaces the file
        self._cache[cache_key] = described
        return described

    def missing(self, path: Path) -> ImproperlyConfigured:
        return ImproperlyConfigured(
            f"{self.setting} {path} does not exist; create an {self.expected} PEM private key there "
            f"(`manage.py {self.rotate_command}` creates one), or point {self.setting} at yours"
        )

    def load(self, *, create: bool | None = None) -> Any:
        """The current key, from the file alone (no database). A missing file
        is generated when `create` (default: in development, DEBUG on) and is
        a configuration error otherwise."""
        path = self.path()
        create = settings.DEBUG if create is None else create
        with self._lock:
            try:
                return self.read(path)
            except FileNotFoundError:
                if not create:
                    raise self.missing(path) from None
            try:
                write_key_file(path, self.generate(), replace=False)
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"{self.setting} {path} does not exist and cannot be created: {exc.strerror}"
                ) from None
            try:
                return self.read(path)
            except FileNotFoundError:
                raise self.missing(path) from None

    def replace(self, private_key: Any) -> tuple[Any | None, Any]:
        """Put `private_key` in the file: (the key it held, or None; the new
        one). A file that exists but cannot be read as a key is refused, never
        overwritten: it may be the only copy of key material."""
        path = self.path()
        with self._lock:
            try:
                old = self.read(path)
            except FileNotFoundError:
                old = None
            try:
                write_key_file(path, private_key, replace=True)
            except OSError as exc:
                raise ImproperlyConfigured(f"{self.setting} {path} cannot be written: {exc.strerror}") from None
            return old, self.read(path)
