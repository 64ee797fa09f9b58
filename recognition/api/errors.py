"""One exception handler renders every error that is not a decision as
{"error": "<code>", "detail": "<text>"} (DESIGN §10).

No input yields a 500: a database that cannot answer is a 503
`service_unavailable` (logged here, never echoed), and the 404 and 500 pages
of paths under /api/ are JSON of the same shape, with no traceback.
"""

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import DatabaseError, InterfaceError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from recognition.models import Verification
from recognition.services.audit import RecordingInterrupted

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
MAX_DETAIL_LINES = 10

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "invalid_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}

# The codes of every error this module renders (documented in the schema).
ERROR_CODES = (
    *_CODES.values(), "payload_too_large", "service_unavailable", "internal_error", "no_checkpoint",
    "not_yet_integrated",
)  # fmt: skip


def flatten(detail: Any, path: str = "") -> list[str]:
    """DRF's nested error details as 'field: message' lines; the errors of a
    list of objects (a batch) are numbered by the item's index."""
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in flatten(value, f"{path}{key}." if key != "non_field_errors" else path)
        ]
    if isinstance(detail, list):
        if any(isinstance(item, dict) for item in detail):
            return [line for index, item in enumerate(detail) for line in flatten(item, f"{path}{index}.")]
        return [line for item in detail for line in flatten(item, path)]
    return [f"{path.rstrip('.')}: {detail}" if path else str(detail)]


def _joined(lines: list[str]) -> str:
    shown = lines[:MAX_DETAIL_LINES]
    more = len(lines) - len(shown)
    return "; ".join(shown) + (f"; ... and {more} more" if more else "")


def error_response(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status_code)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"error": "payload_too_large", "detail": "the request body is over 1 MiB"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django's own refusal of a request (too many query or form fields,
        # DATA_UPLOAD_MAX_NUMBER_FIELDS): a 400 in the API's shape, where
        # Django would answer its HTML page. Logged as Django logs it.
        logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
        detail = (
            f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query or form fields"
            if isinstance(exc, TooManyFieldsSent)
            else "the request is malformed"
        )
        return Response({"error": "malformed_request", "detail": detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RecordingInterrupted):
        # The decision may be in the log although the database never said so:
        # the caller is told which rows to look for before asking again.
        logger.exception("database error while recording %s", ", ".join(str(row.id) for row in exc.rows))
        set_rollback()
        return Response(
            {"error": "service_unavailable", "detail": recording_interrupted_detail(exc.rows)},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, DatabaseError | InterfaceError):  # InterfaceError: a connection that is gone
        # The caller learns that the registry cannot answer now; what the
        # database said stays in the server's log.
        logger.exception("database error while answering %s", getattr(context.get("request"), "path", "?"))
        set_rollback()
        return Response(
            {"error": "service_unavailable", "detail": "the registry cannot reach its database; try again later"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's handler500 below answers, and logs it
    code = next((name for kind, name in _CODES.items() if isinstance(exc, kind)), "error")
    detail = _joined(flatten(exc.detail)) if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"error": code, "detail": detail}
    return response


def recording_interrupted_detail(rows: Sequence[Verification]) -> str:
    """Names the rows a failed commit may have recorded: the id of each, one
    an item of a batch, in order."""
    if len(rows) == 1:
        where = f"audit record {rows[0].id}"
    else:
        where = f"{len(rows)} audit records, one an item in order: {', '.join(str(row.id) for row in rows)}"
    return (
        "the database failed while recording the decision; it may have been recorded as "
        f"{where}; a regulator can confirm it in the audit log; try again later"
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return error_response("not_found", "no such endpoint or object", status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django has already logged the exception with its
    traceback; the caller gets no detail of it."""
    if request.path.startswith(API_PREFIX):
        return error_response(
            "internal_error",
            "the registry failed to answer; the error has been logged",
            status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)
