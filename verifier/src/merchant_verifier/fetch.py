"""GET one of the registry's documents, with the standard library only.

Only paths of the registry's own URL are ever asked for (the caller builds
them; nothing is taken from a token). Conditional requests (RFC 9110
§13.1.2): the stored ETag goes in If-None-Match, and 304 says the stored
copy is still the registry's. A body larger than `max_bytes` is refused
without being read whole; redirects are not followed (the registry serves
its lists where it says); every failure is a `FetchError` naming it.
"""

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol

USER_AGENT = "merchant-verifier/1.0"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)


class FetchError(Exception):
    """The document could not be fetched; the message says why, `status`
    the HTTP status when the registry answered one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Fetched:
    status: int  # 200 or 304
    body: bytes
    etag: str | None
    max_age: int | None


class Opener(Protocol):
    def open(self, request: urllib.request.Request, timeout: float) -> Any: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then reaches the caller as an HTTPError


def default_opener() -> Opener:
    return urllib.request.build_opener(_NoRedirects())


def max_age_of(headers: Message) -> int | None:
    found = _MAX_AGE.search(headers.get("Cache-Control") or "")
    return int(found.group(1)) if found else None


class Fetcher:
    def __init__(self, base_url: str, *, timeout: float, max_bytes: int, opener: Opener | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the registry URL must start with http:// or https://, not {base_url[:100]!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.opener = opener or default_opener()

    def get(self, path: str, *, etag: str | None = None) -> Fetched:
        url = self.base_url + path
        headers = {"User-Agent": USER_AGENT, "Accept": "application/jwt, application/json"}
        if etag:
            headers["If-None-Match"] = etag
        request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (http(s) only: __init__)
        try:
            response = self.opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                if error.code == 304:
                    return Fetched(304, b"", error.headers.get("ETag") or etag, max_age_of(error.headers))
                raise FetchError(f"{url} answered HTTP {error.code}", error.code) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise FetchError(f"cannot reach {url} ({str(reason)[:200]})") from None
        with response:
            status = getattr(response, "status", None) or response.getcode()
            if status == 304:
                return Fetched(304, b"", response.headers.get("ETag") or etag, max_age_of(response.headers))
            if status != 200:
                raise FetchError(f"{url} answered HTTP {status}", status)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
            try:
                body = response.read(self.max_bytes + 1)
            except (OSError, ValueError) as error:
                raise FetchError(f"reading {url} failed ({str(error)[:200]})") from None
            if len(body) > self.max_bytes:
                raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
            return Fetched(200, body, response.headers.get("ETag"), max_age_of(response.headers))
