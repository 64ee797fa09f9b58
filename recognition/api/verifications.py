"""Verification endpoints (DESIGN §5): parse, call the service, serialize."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.permissions import IsPlatformOrRegulator, caller_name
from accounts.throttling import PerClientThrottle
from recognition.api.answers import BatchResponseSerializer, VerificationResponseSerializer, present
from recognition.api.serializers import (
    MAX_BATCH,
    BatchRequestSerializer,
    VerificationRequestSerializer,
    documented_error,
    well_formed_batch,
    well_formed_request,
)
from recognition.services.verification import VerificationRequest, verify_credentials


def _validated(data: Any, well_formed: Callable[[Any], Any], serializer_class: type[Serializer]) -> Any:
    """A body of the common well-formed shape needs no serializer at all;
    any other goes through the serializer's fields, which word the 400."""
    validated = well_formed(data)
    if validated is None:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
    return validated


def verification_request(request: Request) -> VerificationRequest:
    """The body of a single verification, validated (400 otherwise)."""
    validated = _validated(request.data, well_formed_request, VerificationRequestSerializer)
    return VerificationRequestSerializer.to_request(validated)


def verification_requests(request: Request) -> list[VerificationRequest]:
    """The items of a batch, validated (400 for the whole batch otherwise)."""
    validated = _validated(request.data, well_formed_batch, BatchRequestSerializer)
    return [VerificationRequestSerializer.to_request(item) for item in validated["items"]]


ERRORS = {
    400: documented_error(
        "The request is not of the documented shape (not JSON, a member name repeated in any object, not an object,"
        " a missing or wrong field)"
    ),
    401: documented_error("No API key, or an unknown, revoked or expired one (WWW-Authenticate: Api-Key)"),
    403: documented_error("The caller has no platform or regulator role"),
    405: documented_error("Only POST is allowed"),
    413: documented_error("The request body is over 1 MiB (refused before it is parsed)"),
    415: documented_error("The body is not application/json"),
    429: documented_error("Throttled: too many requests for this key; Retry-After says when to come back"),
    503: documented_error(
        "The registry cannot reach its database. Nothing was recorded, unless the detail names the audit records"
        " the decision may have been recorded as (the database failed after they were sent)"
    ),
}

EXAMPLE_JWS = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImNsLXJlZ2lzdHJvLTIwMjQiLCJ0eXAiOiJtZXJjaGFudC1jcmVkZW50aWFsK2p3dCJ9..."
ACCEPTED_EXAMPLE = {
    "id": "0b6f3c0e-5d0a-4f57-9a52-3f1d2b4c8e11",
    "decision": "accepted",
    "accepted": True,
    "reasons": [],
    "origin": "CL",
    "destination": "CN",
    "evaluated_at": "2026-11-29T01:02:03.456789Z",
    "issuer": {
        "issuer": "https://demo-registro.cl.example/issuer",
        "name": "Registro de Empresas y Sociedades (demo)",
        "country": "CL",
    },
    "merchant": {
        "registration_number": "76.543.210-K",
        "legal_name": "Viña Los Andes Exportaciones SpA",
        "status": "active",
    },
    "credential": {
        "jti": "5a0e8d0c-3c4f-4e51-a1a4-55d5f6f2e0b7",
        "type": "merchant-identity",
        "assurance": "substantial",
        "issued_at": "2026-11-29T01:00:00Z",
        "expires_at": "2027-11-29T01:00:00Z",
    },
    "agreement": {
        "id": 1,
        "legal_basis": "Memorandum of Understanding on Electronic Commerce Cooperation between China and Chile (2016)",
        "valid_from": "2017-01-01T00:00:00Z",
        "valid_until": None,
    },
    "audit": {
        "id": "0b6f3c0e-5d0a-4f57-9a52-3f1d2b4c8e11",
        "leaf_hash": "5tYbRSxn1C0uP6mPGn9wOJ4nNY+TK6ytZt8Y0T1i2Ys=",
        "receipt": "eyJhbGciOiJFZERTQSIsImtpZCI6IjdhM2Y1YzEyIiwidHlwIjoiYXVkaXQtcmVjZWlwdCtqd3QifQ...",
    },
}
REJECTED_EXAMPLE = {
    **ACCEPTED_EXAMPLE,
    "decision": "rejected",
    "accepted": False,
    "reasons": [{"code": "origin_mismatch", "detail": "origin VN is not the issuer's country CL"}],
    "agreement": None,
}


class VerificationCreateApi(APIView):
    permission_classes = [IsPlatformOrRegulator]
    throttle_classes = [PerClientThrottle]

    @extend_schema(
        operation_id="verifications_create",
        tags=["verifications"],
        request=VerificationRequestSerializer,
        responses={200: VerificationResponseSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Request", value={"token": EXAMPLE_JWS, "destination": "CN", "origin": "CL"}, request_only=True
            ),
            OpenApiExample("Accepted", value=ACCEPTED_EXAMPLE, response_only=True),
            OpenApiExample("Rejected", value=REJECTED_EXAMPLE, response_only=True),
        ],
        summary="Verify a merchant credential for a border pair",
        description=(
            "Decide whether a merchant credential is accepted in `destination`. A rejection is a 200 answer "
            "with its reasons; every answer is recorded in the audit log."
        ),
    )
    def post(self, request: Request) -> Response:
        (outcome,) = verify_credentials([verification_request(request)], client=caller_name(request))
        return Response(present(outcome))


class VerificationBatchApi(APIView):
    permission_classes = [IsPlatformOrRegulator]
    throttle_classes = [PerClientThrottle]

    @extend_schema(
        operation_id="verifications_batch",
        tags=["verifications"],
        request=BatchRequestSerializer,
        responses={200: BatchResponseSerializer, **ERRORS},
        summary=f"Verify up to {MAX_BATCH} credentials in one call",
        description=(
            f"1 to {MAX_BATCH} verification requests, decided at one instant; one answer and one audit row each, "
            "in request order. The batch is all-or-nothing on request shape: one malformed item is a 400 for the "
            "whole batch (its detail names the item's index), and nothing is decided or recorded."
        ),
    )
    def post(self, request: Request) -> Response:
        outcomes = verify_credentials(verification_requests(request), client=caller_name(request))
        return Response({"results": [present(outcome) for outcome in outcomes]})
