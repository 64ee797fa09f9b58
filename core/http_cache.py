"""Conditional GET for the public signed documents (trust lists, status
lists, the registry's JWKS): a strong ETag of the exact bytes served, `304
Not Modified` to a matching `If-None-Match` (RFC 9110 §13.1.2, §15.4.5), and
headers that keep them safe behind a shared cache.

The ETag names the bytes, never a content version: a 304 tells the reader
that the copy it holds, with its own `iat` and `exp`, is exactly what would
be sent now. A view that re-signed on every request would never match, so
the views keep a signed document until its content changes or half its
lifetime has passed.
"""

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

# Everything a shared cache must tell apart. These answers depend on
# nothing else of the request (no authentication, no cookie, no language);
# Accept-Encoding because a cache or the server may compress.
VARY = "Accept-Encoding"


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ is
    ignored on either side; `*` matches any current representation."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


def conditional_response(
    request: HttpRequest, body: bytes, *, content_type: str, max_age: int, etag: str | None = None
) -> HttpResponse:
    """The answer to a GET of a public document: 200 with `body`, or 304
    when the reader's `If-None-Match` names these very bytes. Both carry the
    ETag, Cache-Control (`public, max-age`) and Vary, as RFC 9110 §15.4.5
    asks of a 304."""
    etag = etag or strong_etag(body)
    header = request.headers.get("If-None-Match")
    if header is not None and _matches(header, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max(0, int(max_age))}"
    response["Vary"] = VARY
    return response
