"""What a verifier at the platform's edge reads to refuse what the registry
no longer stands behind (public, no authentication): the Token Status Lists
of the credentials the registry issued (draft-ietf-oauth-status-list-20), and
each country's merchant-status list. Both answer `?time=` from history, and
conditional GETs (core/http_cache.py)."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from core.http_cache import conditional_response
from core.instants import describe
from recognition.api.schema import COUNTRY_CODE_SCHEMA, instant_schema
from recognition.api.serializers import (
    CountryCodeField,
    InstantField,
    RequestObjectSerializer,
    documented_error,
    query_object,
)
from recognition.api.trust import PublicApi
from recognition.services.status_lists import (
    MERCHANT_STATUS_MEDIA_TYPE,
    MERCHANT_STATUS_TYP,
    STATUS_LIST_MEDIA_TYPE,
    STATUS_LIST_TYP,
    Signed,
    UnknownList,
    merchant_status_token,
    status_list_token,
)


class TimeQuerySerializer(RequestObjectSerializer):
    time = InstantField(required=False)

    def validate_time(self, value):  # noqa: ANN001, ANN201 - DRF's hook
        # The registry cannot answer for a moment to come: a future instant is
        # answered with the list of now (iat now), as GET recognition/ answers
        # a future `at` from today's rules; the schema admits every instant.
        return None if value >= timezone.now() else value


class CountrySerializer(RequestObjectSerializer):
    country = CountryCodeField()


def _time(request: Request):  # noqa: ANN202
    serializer = TimeQuerySerializer(data=query_object(request))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data.get("time")


def _answer(request: Request, signed: Signed, content_type: str) -> HttpResponse:
    return conditional_response(
        request, signed.token, content_type=content_type, max_age=signed.max_age(timezone.now())
    )


TIME_PARAMETER = OpenApiParameter(
    "time",
    instant_schema(),
    OpenApiParameter.QUERY,
    required=False,
    description=(
        f"The instant to answer for, from history: {describe()}. Default: now. The answer's `iat` is this instant "
        "(whole seconds), its signature is made now. A future instant is answered with the list of now."
    ),
)
CACHING = (
    "`ttl` (STATUS_LIST_TTL_SECONDS, default 300) is how long a reader may keep it before fetching again; `exp` is "
    "`iat` + STATUS_LIST_LIFETIME_SECONDS (default 86400). Cache-Control `max-age` is what is left of the ttl "
    "(never more); the ETag names the exact bytes, and a matching If-None-Match is answered 304."
)
NOT_MODIFIED = OpenApiResponse(description="If-None-Match named these very bytes; no body")


class StatusListApi(PublicApi):
    @extend_schema(
        operation_id="status_lists_retrieve",
        tags=["trust"],
        parameters=[
            OpenApiParameter(
                "number",
                {"type": "integer", "minimum": 1},
                OpenApiParameter.PATH,
                description="The list's number, as in a credential's `status.status_list.uri`",
            ),
            TIME_PARAMETER,
        ],
        responses={
            (200, STATUS_LIST_MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    f"A compact JWS (header `typ` {STATUS_LIST_TYP}, `alg`, `kid` of a key in /.well-known/jwks.json) "
                    'whose payload is {"iss": REGISTRY_ISSUER, "sub": the list\'s URI exactly as in the credentials, '
                    '"iat", "exp", "ttl", "status_list": {"bits": 2, "lst": base64url(zlib(bytes))}}. Entry `idx` is '
                    "`(byte[idx // 4] >> ((idx % 4) * 2)) & 3`: 0 valid, 1 invalid (the credential or its merchant is "
                    "revoked), 2 suspended (the credential or its merchant is suspended). Unallocated entries are 0. "
                    + CACHING
                ),
            ),
            304: NOT_MODIFIED,
            (400, "application/json"): documented_error("A malformed `time`, or an unknown parameter"),
            (404, "application/json"): documented_error("No such list, or it did not exist yet at `time`"),
            (503, "application/json"): documented_error("The registry cannot reach its database"),
        },
        summary="A Token Status List of the registry's credentials",
        description=(
            "The status of every credential the registry issued with an index in this list "
            "(draft-ietf-oauth-status-list-20), signed by the registry. A change (a credential or its merchant "
            "suspended, reinstated or revoked) is in the very next list served."
        ),
    )
    def get(self, request: Request, number: int) -> HttpResponse:
        at = _time(request)
        try:
            signed = status_list_token(number, at=at)
        except UnknownList as exc:
            raise NotFound(str(exc)) from None
        return _answer(request, signed, STATUS_LIST_MEDIA_TYPE)


class MerchantStatusApi(PublicApi):
    @extend_schema(
        operation_id="merchant_status_retrieve",
        tags=["trust"],
        parameters=[
            OpenApiParameter(
                "country", COUNTRY_CODE_SCHEMA, OpenApiParameter.PATH, description="ISO 3166-1 alpha-2, upper case"
            ),
            TIME_PARAMETER,
        ],
        responses={
            (200, MERCHANT_STATUS_MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    f"A compact JWS (header `typ` {MERCHANT_STATUS_TYP}, `alg`, `kid` of a key in "
                    '/.well-known/jwks.json) whose payload is {"iss": REGISTRY_ISSUER, "sub": country, "iat", "exp", '
                    '"ttl", "merchants": [{"issuer", "registration_number", "status": "suspended"|"revoked"}], '
                    '"credentials": [{"issuer", "jti", "status": "suspended"|"revoked"}]}. `merchants`: every '
                    "merchant of an authority of the country that is not active; `credentials`: every credential "
                    "the registry issued for those authorities that is not valid and has no status-list index "
                    "(issued before status lists existed). " + CACHING
                ),
            ),
            304: NOT_MODIFIED,
            (400, "application/json"): documented_error(
                "`country` is not an ISO 3166-1 alpha-2 code (upper case), a malformed `time`, or an unknown parameter"
            ),
            (503, "application/json"): documented_error("The registry cannot reach its database"),
        },
        summary="A country's signed merchant-status list",
        description=(
            "For credentials the registry did not issue (they carry no status claim): the merchants of the "
            "country's authorities that are suspended or revoked, signed by the registry."
        ),
    )
    def get(self, request: Request, country: str) -> HttpResponse:
        serializer = CountrySerializer(data={"country": country})
        serializer.is_valid(raise_exception=True)
        at = _time(request)
        signed = merchant_status_token(serializer.validated_data["country"], at=at)
        return _answer(request, signed, MERCHANT_STATUS_MEDIA_TYPE)
