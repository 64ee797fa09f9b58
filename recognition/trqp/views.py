"""TRQP endpoints under /trqp/ (DESIGN §9, the Ayra profile): parse, ask
recognition/trqp/queries.py, serialize.

Public: no key, no session (so no CSRF either), whatever Authorization header
a verifier sends. Success is application/json; every error is
application/problem+json (recognition/trqp/problems.py).
"""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from recognition.api.parsers import JSONBodyParser
from recognition.api.serializers import query_object
from recognition.trqp import queries
from recognition.trqp import serializers as s
from recognition.trqp.identifiers import country_of
from recognition.trqp.problems import PROBLEM_JSON, ProblemSerializer, problem_exception_handler


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


# 405 is what any other method gets at the path. 503 is documented only where
# the answer reads the database (the assurance levels do not).
METHOD_PROBLEMS = {(405, PROBLEM_JSON): _problem("Method not allowed")}
COMMON_PROBLEMS = {
    **METHOD_PROBLEMS,
    (503, PROBLEM_JSON): _problem("The registry cannot reach its database"),
}
QUERY_PROBLEMS = {
    (400, PROBLEM_JSON): _problem(
        "Malformed query: not JSON, a member name repeated in any object, not an object, a missing or unknown "
        "field, a bad `context.time`, an unknown country code, or the wrong `action`"
    ),
    (404, PROBLEM_JSON): _problem(
        "Unknown entity (code unknown_entity): no authority has ever had this issuer, a DID or an https URL; or "
        "unknown authority (code unknown_authority): a DID or an https URL that is no country's alias here"
    ),
    # The body-size middleware (config/middleware.py) refuses before any view runs.
    (413, PROBLEM_JSON): _problem("The body is over 1 MiB: refused before it is read (code payload_too_large)"),
    (415, PROBLEM_JSON): _problem("The body is not application/json"),
    **COMMON_PROBLEMS,
}
AUTHORITY_PARAMETER = OpenApiParameter("authority_id", s.AUTHORITY_ID_SCHEMA, description=s.AUTHORITY_ID_HELP)
UNKNOWN_AUTHORITY = {
    (404, PROBLEM_JSON): _problem(
        "Unknown authority (code unknown_authority): `authority_id` is a DID or an https URL that is no "
        "country's alias here"
    )
}
EXAMPLE_ISSUER = "https://demo-registro.cl.example/issuer"


class TrqpApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONBodyParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return problem_exception_handler


def _query_example(action: str) -> OpenApiExample:
    return OpenApiExample(
        "Query",
        request_only=True,
        value={
            "entity_id": EXAMPLE_ISSUER,
            "authority_id": "CN",
            "action": action,
            "resource": "merchant-identity",
            "context": {"time": "2026-03-01T00:00:00Z"},
        },
    )


class TrqpAuthorizationApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_authorization",
        tags=["trqp"],
        request=s.TrqpAuthorizationQuerySerializer,
        responses={(200, "application/json"): s.TrqpAuthorizationResponseSerializer, **QUERY_PROBLEMS},
        examples=[_query_example(queries.ISSUE)],
        summary="TRQP authorization: may this authority issue this credential type?",
        description=(
            "`entity_id` (an issuer) is authorized for `issue` of `resource` (a registered credential type) when it "
            "is an authority of `authority_id` (a country) and was active at `context.time` (default now: absent "
            "or null), as recorded in the history. An active authority may issue every registered credential type; "
            "its keys are not weighed here (the mandate to issue outlasts a compromised key)."
        ),
    )
    def post(self, request: Request) -> Response:
        query = s.TrqpAuthorizationQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        answer = queries.trqp_authorization(**query.query())
        return Response(s.present_answer(answer, "authorized"))


class TrqpRecognitionApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_recognition",
        tags=["trqp"],
        request=s.TrqpRecognitionQuerySerializer,
        responses={(200, "application/json"): s.TrqpRecognitionResponseSerializer, **QUERY_PROBLEMS},
        examples=[_query_example(queries.RECOGNIZE)],
        summary="TRQP recognition: does this country recognize this authority for this credential type?",
        description=(
            "`authority_id` (a country) recognizes `entity_id` (an issuer) for `resource` at `context.time` "
            "(default now: absent or null) when the authority was active then and is its own (domestic trust), or "
            "an agreement in force then covered that credential type, and one of the authority's keys was usable "
            "then (could sign a credential the verification would accept at that instant; see "
            "`GET /api/v1/recognition/`). Answered from history."
        ),
    )
    def post(self, request: Request) -> Response:
        query = s.TrqpRecognitionQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        answer = queries.trqp_recognition(**query.query())
        return Response(s.present_answer(answer, "recognized"))


class TrqpMetadataApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_metadata",
        tags=["trqp"],
        responses={(200, "application/json"): s.TrqpMetadataSerializer, **COMMON_PROBLEMS},
        summary="TRQP: the registry's metadata",
        description=(
            "The same for every ecosystem: takes no parameter (any given, such as `egf_did`, is ignored). "
            "`authority_ids` lists, for each country the registry has authorities or public agreements of, the "
            "did:web alias accepted wherever an `authority_id` is."
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(queries.trqp_metadata())


def _authority_query(request: Request) -> None:
    """Checks `authority_id` when given: 400 when malformed, 404 when it names no country here."""
    query = s.AuthorityQuerySerializer(data=query_object(request))
    query.is_valid(raise_exception=True)
    if "authority_id" in query.validated_data:
        country_of(query.validated_data["authority_id"])


LOOKUP_PROBLEMS = {
    (400, PROBLEM_JSON): _problem(
        "`authority_id` is not a country code, a DID or an https URL, or a parameter is unknown or repeated"
    ),
    **UNKNOWN_AUTHORITY,
    **METHOD_PROBLEMS,
}


class TrqpAssuranceLevelsApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_lookup_assurance_levels",
        tags=["trqp"],
        parameters=[AUTHORITY_PARAMETER],
        responses={(200, "application/json"): s.AssuranceLevelSerializer(many=True), **LOOKUP_PROBLEMS},
        summary="TRQP lookup: levels of assurance",
        description="The eIDAS levels, lowest first; the same in every country.",
    )
    def get(self, request: Request) -> Response:
        _authority_query(request)
        return Response(queries.trqp_assurance_levels())


class TrqpAuthorizationsApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_lookup_authorizations",
        tags=["trqp"],
        parameters=[AUTHORITY_PARAMETER],
        responses={
            (200, "application/json"): s.AuthorizationPairSerializer(many=True),
            **LOOKUP_PROBLEMS,
            **COMMON_PROBLEMS,
        },
        summary="TRQP lookup: the action + resource pairs that may be queried",
        description="`issue` and `recognize` for every registered credential type; the same in every country.",
    )
    def get(self, request: Request) -> Response:
        _authority_query(request)
        return Response(queries.trqp_authorizations())


def _page_links(request: Request, *, limit: int, offset: int, total: int) -> dict[str, str | None]:
    url = request.build_absolute_uri()
    previous = None
    if offset > 0:
        back = max(offset - limit, 0)
        previous = replace_query_param(url, "offset", back) if back else remove_query_param(url, "offset")
    return {
        "next": replace_query_param(url, "offset", offset + limit) if offset + limit < total else None,
        "previous": previous,
    }


class TrqpEntitiesApi(TrqpApi):
    @extend_schema(
        operation_id="trqp_entities",
        tags=["trqp"],
        parameters=[
            OpenApiParameter("authority_id", s.AUTHORITY_ID_SCHEMA, required=True, description=s.AUTHORITY_ID_HELP),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": s.MAX_LIMIT},
                description=f"1 to {s.MAX_LIMIT}; default {s.DEFAULT_LIMIT}",
            ),
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": s.MAX_OFFSET},
                description="How many to skip; default 0",
            ),
        ],
        responses={
            (200, "application/json"): s.EntitiesSerializer,
            (400, PROBLEM_JSON): _problem(
                "`authority_id` missing or not a country code, a DID or an https URL, a bad limit or offset, or a "
                "parameter unknown or repeated"
            ),
            **UNKNOWN_AUTHORITY,
            **COMMON_PROBLEMS,
        },
        summary="TRQP: the authorities of a country",
        description=(
            "The authorities of `authority_id` (a country, or its alias, echoed in each item) as they are now, by "
            "name. Offset pagination: `pagination.next` and "
            "`pagination.previous` are the URLs of the neighbouring pages (null at the ends)."
        ),
    )
    def get(self, request: Request) -> Response:
        query = s.EntitiesQuerySerializer(data=query_object(request))
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        authority_id = query.validated_data["authority_id"]
        page = queries.trqp_entities(authority_id=authority_id, limit=limit, offset=offset)
        links = _page_links(request, limit=limit, offset=offset, total=page.total)
        pagination = {"limit": limit, "offset": offset, "total": page.total, **links}
        return Response({"items": page.items, "pagination": pagination})
