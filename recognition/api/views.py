"""Verification endpoints (DESIGN §5): parse, call the service, serialize."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from recognition.api.permissions import IsPlatformOrRegulator, caller_name
from recognition.api.presenters import present
from recognition.api.serializers import (
    BatchRequestSerializer,
    BatchResponseSerializer,
    VerificationRequestSerializer,
    VerificationResponseSerializer,
)
from recognition.services.verification import verify_credentials


class PerClientThrottle(SimpleRateThrottle):
    """One budget per API key (or per staff user), configurable with
    API_THROTTLE_RATE; 429 carries Retry-After."""

    scope = "client"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": caller_name(request)}


ERRORS = {
    400: OpenApiResponse(description="The request is not of the documented shape"),
    401: OpenApiResponse(description="No API key, or an unknown one"),
    403: OpenApiResponse(description="The key's role may not call this endpoint"),
    413: OpenApiResponse(description="The request body is over 1 MiB"),
    429: OpenApiResponse(description="Throttled; see Retry-After"),
}


class VerificationCreateApi(APIView):
    permission_classes = [IsPlatformOrRegulator]
    throttle_classes = [PerClientThrottle]

    @extend_schema(
        operation_id="verifications_create",
        request=VerificationRequestSerializer,
        responses={200: VerificationResponseSerializer, **ERRORS},
        examples=[
            OpenApiExample("Request", value={"token": "eyJ...", "destination": "CN", "origin": "CL"}, request_only=True)
        ],
        description="Decide whether a merchant credential is accepted across a border. A rejection is a 200 answer.",
    )
    def post(self, request: Request) -> Response:
        serializer = VerificationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        (outcome,) = verify_credentials([serializer.to_request()], client=caller_name(request))
        return Response(present(outcome))


class VerificationBatchApi(APIView):
    permission_classes = [IsPlatformOrRegulator]
    throttle_classes = [PerClientThrottle]

    @extend_schema(
        operation_id="verifications_batch",
        request=BatchRequestSerializer,
        responses={200: BatchResponseSerializer, **ERRORS},
        description="Up to 100 verifications in one call; one answer and one audit row each, in order.",
    )
    def post(self, request: Request) -> Response:
        serializer = BatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcomes = verify_credentials(serializer.validated_data["items"], client=caller_name(request))
        return Response({"results": [present(outcome) for outcome in outcomes]})
