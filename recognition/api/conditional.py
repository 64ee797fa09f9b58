"""Conditional GET of the public JSON and JWS documents (RFC 9110 §13.1.2,
§15.4.5; core/http_cache.py), and how the schema documents it: the
validator a reader sends, the 304, and the headers both answers carry."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from core.http_cache import conditional_response

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="An ETag of a copy already held: when it names the bytes that would be sent, the answer is "
    "304 Not Modified with no body.",
)
CACHE_HEADERS = [
    OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="A strong validator of the exact bytes of the body; send it back in If-None-Match.",
    ),
    OpenApiParameter(
        "Cache-Control",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="`public, max-age=N`: the same for every caller, so shared caches may keep it.",
    ),
    OpenApiParameter(
        "Vary",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="`Accept-Encoding`: the answer depends on nothing else of the request (no cookie, no key).",
    ),
]
NOT_MODIFIED = OpenApiResponse(description="Not Modified: the If-None-Match named these very bytes; no body.")


def not_modified_or(request: Request, data: Any, *, max_age: int) -> HttpResponse:
    """A public JSON document: 200 with its bytes, or 304 (core/http_cache.py).
    The bytes are what JSONRenderer would write, so the same data always
    gives the same bytes and the same ETag."""
    body = JSONRenderer().render(data)
    return conditional_response(request, body, content_type="application/json", max_age=max_age)
