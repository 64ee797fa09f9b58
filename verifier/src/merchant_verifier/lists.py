"""The registry's lists a verifier holds: fetched, checked, decoded once,
kept in memory and (with a directory) on disk, refreshed when stale.

The directory's layout (the same whether the cache writes it or `save`,
and what offline mode reads):

    jwks.json                  the registry's JWK Set (/.well-known/jwks.json)
    trust-lists/<CC>.jwt       GET /api/v1/trust-lists/<CC>/
    merchant-status/<CC>.jwt   GET /api/v1/merchant-status/<CC>/
    status-lists/<n>.jwt       GET /api/v1/status-lists/<n>/
    <any of these>.etag        the ETag it was served with (conditional requests)

A list is refreshed once it is stale: a status or merchant-status list after
its `ttl` (or the response's Cache-Control max-age when shorter), a trust
list after the response's max-age, or half its lifetime when the response
gave none. The refresh is a conditional
request; a 304 keeps the copy held. When a refresh fails (the registry is
down, or what it sent does not verify, or is older than the copy held), the
copy held is used until its `exp`, and the refresh is tried again at most
every RETRY_SECONDS; past `exp`, `lists_expired` (fail closed). A list never
held that cannot be had is `lists_unavailable`.
"""

import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from merchant_verifier import contents
from merchant_verifier.fetch import Fetcher, FetchError
from merchant_verifier.signed import (
    MERCHANT_STATUS,
    STATUS_LIST,
    TRUST_LIST,
    ListError,
    RegistryKeys,
    Signed,
    unavailable,
    verify_list,
)

RETRY_SECONDS = 30
JWKS_PATH, JWKS_FILE = "/.well-known/jwks.json", "jwks.json"
STATUS_LIST_PATH = "/api/v1/status-lists/"
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
_LIST_NUMBER = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)


@dataclass(frozen=True)
class Document:
    """One list: where it is served, where it is kept, what it must say."""

    name: str  # for messages
    path: str  # under the registry's URL
    file: str  # under the directory
    typ: str
    sub: str
    decode: Callable[[Signed, str], Any]


def trust_list_document(country: str) -> Document:
    return Document(
        f"the trust list of {country}",
        f"/api/v1/trust-lists/{country}/",
        f"trust-lists/{country}.jwt",
        TRUST_LIST,
        country,
        contents.trust_list,
    )


def merchant_status_document(country: str) -> Document:
    return Document(
        f"the merchant-status list of {country}",
        f"/api/v1/merchant-status/{country}/",
        f"merchant-status/{country}.jwt",
        MERCHANT_STATUS,
        country,
        contents.merchant_status,
    )


def status_list_number(uri: Any, issuer: str) -> int | None:
    """The number n of `uri` when it is `<issuer>/api/v1/status-lists/<n>/`,
    a list of this registry; None for any other URI (never fetched)."""
    prefix = issuer + STATUS_LIST_PATH
    if not isinstance(uri, str) or not uri.startswith(prefix) or not uri.endswith("/"):
        return None
    number = uri[len(prefix) : -1]
    return int(number) if _LIST_NUMBER.fullmatch(number) else None


def status_list_document(number: int, uri: str, max_bytes: int) -> Document:
    return Document(
        f"status list {number}",
        f"{STATUS_LIST_PATH}{number}/",
        f"status-lists/{number}.jwt",
        STATUS_LIST,
        uri,
        lambda signed, name: contents.status_list(signed, name, max_bytes=max_bytes),
    )


def country_code(country: Any) -> str:
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
        raise ValueError(f"a country is an ISO 3166-1 alpha-2 code in upper case, not {str(country)[:20]!r}")
    return country


@dataclass
class Held:
    signed: Signed
    content: Any
    etag: str | None
    fresh_until: float


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a temporary file renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Lists:
    def __init__(
        self, fetcher: Fetcher | None, *, directory: Path | None, offline: bool, issuer: str | None = None
    ) -> None:
        if offline and directory is None:
            raise ValueError("offline mode reads a directory of saved lists: give cache_dir")
        self.fetcher = None if offline else fetcher
        self.directory = directory
        self.issuer = issuer  # adopted from the first trust list when not given
        self._held: dict[str, Held] = {}
        self._keys: RegistryKeys | None = None
        self._keys_raw = b""
        self._keys_etag: str | None = None
        self._keys_tried = float("-inf")
        self._lock = threading.RLock()

    # The registry's keys ------------------------------------------------------------------

    def _stored(self, file: str) -> tuple[bytes, str | None] | None:
        if self.directory is None:
            return None
        path = self.directory / file
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise unavailable(f"cannot read {path} ({error.strerror})") from None
        etag_path = path.with_name(path.name + ".etag")
        etag = etag_path.read_text().strip() if etag_path.is_file() else None
        return data, etag or None

    def _store(self, file: str, data: bytes, etag: str | None) -> None:
        if self.directory is None or self.fetcher is None:
            return  # offline: the directory is read, never written
        path = self.directory / file
        try:
            _write(path, data)
            _write(path.with_name(path.name + ".etag"), (etag or "").encode("ascii", "replace"))
        except OSError:
            pass  # a cache that cannot be written is only a cache: the list is held in memory

    def _take_keys(self, body: bytes, etag: str | None) -> None:
        try:
            keys = RegistryKeys.parse(body)
        except ListError:
            if self._keys is None:
                raise
            return  # a broken JWKS does not replace a good one
        self._keys, self._keys_raw, self._keys_etag = keys, body, etag
        self._store(JWKS_FILE, body, etag)

    def keys(self, now: float, *, refresh: bool = False) -> RegistryKeys:
        """The registry's JWK Set: from the directory, else the network;
        fetched again (at most every RETRY_SECONDS) when `refresh`."""
        if self._keys is None:
            stored = self._stored(JWKS_FILE)
            if stored is not None:
                self._keys, self._keys_raw, self._keys_etag = RegistryKeys.parse(stored[0]), stored[0], stored[1]
        if self.fetcher is not None and (self._keys is None or refresh) and now >= self._keys_tried + RETRY_SECONDS:
            self._keys_tried = now
            try:
                fetched = self.fetcher.get(JWKS_PATH, etag=self._keys_etag if self._keys else None)
            except FetchError as error:
                if self._keys is None:
                    raise unavailable(f"the registry's JWKS: {error}") from None
            else:
                if fetched.status == 200:
                    self._take_keys(fetched.body, fetched.etag)
        if self._keys is None:
            where = f"in {self.directory}" if self.directory else "held"
            raise unavailable(f"no registry JWKS {where}")
        return self._keys

    # Lists --------------------------------------------------------------------------------

    def get(self, document: Document, now: float) -> Any:
        """The decoded content of `document`, fresh enough, at `now` (POSIX
        seconds); `ListError` when it cannot be had or has expired."""
        held = self._held.get(document.file)
        if held is not None and now < held.fresh_until and now < held.signed.exp:
            return held.content  # the hot path: no lock, no I/O
        with self._lock:
            return self._get(document, now)

    def _get(self, document: Document, now: float) -> Any:
        held = self._held.get(document.file)
        failure: ListError | None = None
        if held is None:
            try:
                held = self._load(document, now)
            except ListError as error:
                failure = error
        if self.fetcher is not None and (held is None or now >= held.fresh_until or now >= held.signed.exp):
            try:
                held = self._refresh(document, held, now)
            except ListError as error:
                failure = error
                if held is not None:
                    held.fresh_until = now + RETRY_SECONDS
        if held is None:
            raise failure or unavailable(f"{document.name} is not in {self.directory}")
        self._held[document.file] = held
        if now >= held.signed.exp:
            why = f": {failure.detail}" if failure else ""
            raise ListError("lists_expired", f"{document.name} expired and could not be refreshed{why}")
        return held.content

    def _check(self, document: Document, data: bytes, now: float) -> tuple[Signed, Any]:
        keys = self.keys(now)
        try:
            signed = verify_list(data, name=document.name, typ=document.typ, sub=document.sub, iss=self.issuer,
                                 keys=keys)  # fmt: skip
        except ListError as error:
            if "not in the registry's JWKS" not in error.detail or self.fetcher is None:
                raise
            # A key the registry started signing with since its JWKS was read.
            keys = self.keys(now, refresh=True)
            signed = verify_list(data, name=document.name, typ=document.typ, sub=document.sub, iss=self.issuer,
                                 keys=keys)  # fmt: skip
        content = document.decode(signed, document.name)
        if self.issuer is None:
            self.issuer = signed.payload["iss"]
        return signed, content

    def _freshness(self, document: Document, signed: Signed, max_age: int | None, now: float) -> float:
        if document.typ == TRUST_LIST:
            seconds = max_age if max_age is not None else (signed.exp - signed.iat) / 2
        else:  # the list's ttl, or less when a cache says so (the registry counts it from iat)
            seconds = signed.payload["ttl"] if max_age is None else min(signed.payload["ttl"], max_age)
        return now + max(seconds, 1)

    def _load(self, document: Document, now: float) -> Held | None:
        stored = self._stored(document.file)
        if stored is None:
            return None
        signed, content = self._check(document, stored[0], now)
        # Online, a stored copy is revalidated before its first use (its age is unknown).
        fresh_until = float("inf") if self.fetcher is None else now
        return Held(signed=signed, content=content, etag=stored[1], fresh_until=fresh_until)

    def _refresh(self, document: Document, held: Held | None, now: float) -> Held:
        try:
            fetched = self.fetcher.get(document.path, etag=held.etag if held else None)
        except FetchError as error:
            raise ListError("lists_unavailable", f"{document.name}: {error}", http_status=error.status) from None
        if fetched.status == 304 and held is not None:
            held.fresh_until = self._freshness(document, held.signed, fetched.max_age, now)
            return held
        if fetched.status == 304:
            raise unavailable(f"{document.name}: the registry answered 304 to an unconditional request")
        signed, content = self._check(document, fetched.body, now)
        if held is not None and signed.iat < held.signed.iat:
            raise unavailable(f"{document.name}: the registry sent a list older than the one held")
        self._store(document.file, fetched.body, fetched.etag)
        return Held(signed, content, fetched.etag, self._freshness(document, signed, fetched.max_age, now))

    def save(self, directory: Path) -> list[str]:
        """Write the JWKS and every list held into `directory` (the layout
        above), for offline mode; the files written, relative."""
        with self._lock:
            if self._keys is None:
                raise unavailable("no registry JWKS held: verify a token or fetch the lists first")
            written = []
            for file, held in sorted(self._held.items()):
                _write(directory / file, held.signed.raw)
                written.append(file)
            _write(directory / JWKS_FILE, self._keys_raw)
            return [JWKS_FILE, *written]
