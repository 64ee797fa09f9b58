"""Refuse oversized request bodies before anything parses them (DESIGN §10).

This runs first, on the declared Content-Length: an oversized body is never
read, so no parser, view or serializer runs and nothing is recorded.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return JsonResponse(
                {"error": "malformed_request", "detail": "Content-Length is not a non-negative number"}, status=400
            )
        if length > limit:
            return JsonResponse(
                {"error": "payload_too_large", "detail": f"the request body is over {limit} bytes (1 MiB)"}, status=413
            )
        return self.get_response(request)
