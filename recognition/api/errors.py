"""One exception handler renders every error that is not a decision as
{"error": "<code>", "detail": "<text>"} (DESIGN §10)."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

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


def flatten(detail: Any, path: str = "") -> list[str]:
    """DRF's nested error details as 'field: message' lines."""
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in flatten(value, f"{path}{key}." if key != "non_field_errors" else path)
        ]
    if isinstance(detail, list):
        return [line for item in detail for line in flatten(item, path)]
    return [f"{path.rstrip('.')}: {detail}" if path else str(detail)]


def error_response(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status_code)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"error": "payload_too_large", "detail": "the request body is over 1 MiB"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = next((name for kind, name in _CODES.items() if isinstance(exc, kind)), "error")
    detail = "; ".join(flatten(exc.detail)) if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"error": code, "detail": detail}
    return response
