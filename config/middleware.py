"""Request and response hardening (DESIGN §10).

BodySizeLimitMiddleware refuses oversized request bodies before anything
parses them. SecurityHeadersMiddleware adds the headers Django's own
SecurityMiddleware does not: a Content-Security-Policy fitted to what each
kind of page loads (with nonces for Swagger UI's inline script and style),
a Permissions-Policy, and Cross-Origin-Opener-Policy on Swagger UI. The
lockout page and the client address of django-axes are here too (settings
AXES_LOCKOUT_CALLABLE, AXES_CLIENT_IP_CALLABLE).
"""

import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

API_PREFIX = "/api/"
TRQP_PREFIX = "/trqp/"
PROBLEM_JSON = "application/problem+json"


def _refusal(request: HttpRequest, status: int, code: str, detail: str) -> JsonResponse:
    """The API's {error, detail}; under /trqp/, which answers every error as
    application/problem+json (DESIGN §10), the problem of
    recognition/trqp/problems.py. That module is not imported here: loading
    the API modules from a middleware closes an import cycle through DRF's
    settings when a worker's first request is refused here."""
    if request.path.startswith(TRQP_PREFIX):
        problem = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
        return JsonResponse({**problem, "code": code}, status=status, content_type=PROBLEM_JSON)
    return JsonResponse({"error": code, "detail": detail}, status=status)


class BodySizeLimitMiddleware:
    """Runs on the declared Content-Length, before any view: an oversized
    body is never read, so no parser, view or serializer runs and nothing
    is recorded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return _refusal(request, 400, "malformed_request", "Content-Length is not a non-negative number")
        if length > limit:
            return _refusal(request, 413, "payload_too_large", f"the request body is over {limit} bytes (1 MiB)")
        return self.get_response(request)


def _policy(**directives: str) -> str:
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


# JSON, JWS, CSV, files: nothing to load, never framed.
API_CSP = _policy(default_src="'none'", frame_ancestors="'none'")
# The admin (and any other HTML page): its own static scripts and
# stylesheets. Django 5.2's admin has no inline script and no <style>
# element; one style attribute remains (django-simple-history's history
# page), hence 'unsafe-inline' for style attributes only (style-src-attr;
# a browser without it falls back to style-src and drops that one style).
HTML_CSP = _policy(
    default_src="'none'",
    script_src="'self'",
    style_src="'self'",
    style_src_attr="'unsafe-inline'",
    img_src="'self'",
    font_src="'self'",
    connect_src="'self'",
    form_action="'self'",
    frame_ancestors="'none'",
    base_uri="'none'",
)
# Swagger UI (drf-spectacular's page) loads its scripts and stylesheet from
# our /static/, and carries one inline <script> (which embeds the request's
# CSRF token, so no fixed hash can name it) and one inline <style>. The
# template gives them no nonce, so this middleware adds a fresh one to each,
# and only when the page holds exactly one of each: a page with another
# inline script or style gets no nonce at all, and runs none of them.
# Swagger UI's stylesheet draws icons from data: URLs; "Try it out" calls
# the API on this origin.
DOCS_PATH = "/api/docs/"
_DOCS_INLINE_TAGS = ("<script>", "<style>")


def docs_csp(nonce: str | None) -> str:
    allowed = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return _policy(
        default_src="'none'",
        script_src=allowed,
        style_src=allowed,
        img_src="'self' data:",
        font_src="'self'",
        connect_src="'self'",
        form_action="'self'",
        frame_ancestors="'none'",
        base_uri="'none'",
    )


def add_docs_nonce(response: HttpResponse) -> str | None:
    """Give the Swagger UI page's one inline script and one inline style a
    fresh nonce; None (and the page unchanged) unless there is exactly one
    of each."""
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return None
    page = response.content.decode(response.charset or "utf-8")
    if any(page.count(tag) != 1 for tag in _DOCS_INLINE_TAGS):
        return None
    nonce = secrets.token_urlsafe(18)
    for tag in _DOCS_INLINE_TAGS:
        page = page.replace(tag, f'{tag[:-1]} nonce="{nonce}">')
    response.content = page.encode(response.charset or "utf-8")
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return nonce


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def content_security_policy(request: HttpRequest, response: HttpResponse) -> str:
    if request.path == DOCS_PATH:
        return docs_csp(add_docs_nonce(response))
    if response.get("Content-Type", "").startswith("text/html"):
        return HTML_CSP
    return API_CSP


class SecurityHeadersMiddleware:
    """Beside django.middleware.security.SecurityMiddleware (HSTS behind TLS,
    nosniff, Referrer-Policy, COOP) and XFrameOptionsMiddleware (DENY).

    A view that sets its own Content-Security-Policy keeps it: the matrix
    page (recognition/matrix_views.py) allows only its inline styles."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request, response)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path == DOCS_PATH:
            # drf-spectacular opens COOP ("unsafe-none") for an OAuth2 login
            # popup; the registry has no OAuth2, so the page stays isolated.
            response["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


# django-axes ---------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The address a login attempt is counted against. Behind
    TRUSTED_PROXY_COUNT trusted reverse proxies, each appending the address it
    received from to X-Forwarded-For, the client is the entry that many
    places from the right; what a client wrote further left is not trusted.
    With no proxy (0), or a header shorter than that, REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


LOCKOUT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">
<title>Too many failed logins | Recognition registry</title></head>
<body>
<h1>Too many failed logins</h1>
<p>After {limit} failed attempts, logging in as <strong>{username}</strong> from this address is
refused for {minutes} minutes. Each further attempt during that time starts the wait again, even with
the right password.</p>
<p>Wait, then <a href="{login_url}">log in again</a>. If you did not make these attempts, tell the
registry's operators: someone may be guessing this account's password.</p>
</body>
</html>
"""


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """HTTP 429 with Retry-After, and a page that says what happened."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds())
    username = request.POST.get("username", "") if request.method == "POST" else ""
    page = LOCKOUT_PAGE.format(
        limit=settings.AXES_FAILURE_LIMIT,
        username=escape(username[:150]) or "this account",
        minutes=max(seconds // 60, 1),
        login_url=escape(request.path),
    )
    response = HttpResponse(page, status=HTTPStatus.TOO_MANY_REQUESTS, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response


class ApiNotFoundMiddleware:
    """A URL under /api/ that names no endpoint is the API's JSON 404 (DESIGN
    §10) with DEBUG on too: handler404 gives it in production, but with DEBUG
    Django answers its HTML debug page instead, which no API client (and no
    schema-driven one) expects. Placed outside CommonMiddleware, so that its
    APPEND_SLASH redirect still happens first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == HTTPStatus.NOT_FOUND
            and request.path.startswith(API_PREFIX)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return _refusal(request, HTTPStatus.NOT_FOUND, "not_found", "no such endpoint or object")
        return response
