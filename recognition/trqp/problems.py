"""TRQP errors as RFC 9457 problem details, `application/problem+json`
(DESIGN §9, §10).

Every error the API renders as {"error", "detail"} (recognition/api/errors.py)
is turned into {"type": "about:blank", "title", "status", "detail", "code"}:
`title` is the HTTP reason phrase, as RFC 9457 §4.2.1 asks with about:blank,
and `code` (an extension member) the API's stable error code. An unknown
entity is a 404 with the code `unknown_entity`, an unknown authority (a
well-formed `authority_id` that names no country here) a 404 with the code
`unknown_authority`.
"""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers
from rest_framework.response import Response

from recognition.api.errors import ERROR_CODES, api_exception_handler
from recognition.trqp.identifiers import UnknownAuthority
from recognition.trqp.queries import UnknownEntity

PROBLEM_JSON = "application/problem+json"
UNKNOWN_ENTITY = "unknown_entity"
UNKNOWN_AUTHORITY = "unknown_authority"


def problem_body(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, "code": code}


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, UnknownEntity):
        return Response(problem_body(404, UNKNOWN_ENTITY, str(exc)), status=404, content_type=PROBLEM_JSON)
    if isinstance(exc, UnknownAuthority):
        return Response(problem_body(404, UNKNOWN_AUTHORITY, str(exc)), status=404, content_type=PROBLEM_JSON)
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    response.data = problem_body(response.status_code, response.data["error"], response.data["detail"])
    response.content_type = PROBLEM_JSON
    return response


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /trqp/: a problem, not Django's HTML page."""
    return JsonResponse(problem_body(404, "not_found", "no such TRQP endpoint"), status=404, content_type=PROBLEM_JSON)


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `about:blank`: the status and `code` say what happened")
    title = serializers.CharField(help_text="The HTTP reason phrase")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What was wrong, for a human")
    code = serializers.CharField(
        help_text=f"A stable machine-readable code: {UNKNOWN_ENTITY}, {UNKNOWN_AUTHORITY}, {', '.join(ERROR_CODES)}"
    )

    class Meta:
        ref_name = "ProblemDetails"
