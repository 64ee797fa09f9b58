"""The trust picture, public (DESIGN §7): signed trust lists, the registry's
own keys at /.well-known/jwks.json, and which authorities of a country were
recognized in another at an instant. Each view parses, calls a service and
shapes the answer.

Public views take no authentication at all: like the schema, they are
indifferent to an Authorization header meant for the verification API.
"""

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http_cache import conditional_response
from core.instants import describe, iso_or_none
from recognition.api.conditional import CACHE_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, not_modified_or
from recognition.api.schema import COUNTRY_CODE_SCHEMA, instant_schema
from recognition.api.serializers import (
    CountryCodeField,
    InstantField,
    RequestObjectSerializer,
    documented_error,
    is_country_code,
    query_object,
)
from recognition.services.point_in_time import Recognition, recognition_at
from recognition.services.registry_keys import published_keys
from recognition.services.trust_lists import MEDIA_TYPE, TRUST_LIST_TYP, cache_max_age, trust_list
from recognition.snapshots import current_policy


class PublicApi(APIView):
    """Anyone may read; no authentication is attempted."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [JSONRenderer]


# Answers (for the schema) ------------------------------------------------------


class JwkSerializer(serializers.Serializer):
    kty = serializers.CharField(help_text="OKP or EC")
    crv = serializers.CharField(help_text="Ed25519 or P-256")
    x = serializers.CharField()
    y = serializers.CharField(required=False, help_text="EC keys only")
    kid = serializers.CharField(help_text="RFC 7638 thumbprint; the trust list header's kid")
    alg = serializers.CharField(help_text="ES256 or EdDSA")
    use = serializers.CharField(help_text="sig")

    class Meta:
        ref_name = "RegistryJwk"


class JwksSerializer(serializers.Serializer):
    keys = JwkSerializer(many=True, help_text="The current key first, then retired ones still published")

    class Meta:
        ref_name = "RegistryJwks"


class RecognitionKeySerializer(serializers.Serializer):
    kid = serializers.CharField()
    alg = serializers.CharField()
    status = serializers.CharField(help_text="active, retired or compromised, at that instant")
    not_before = serializers.DateTimeField(help_text="Credentials issued (iat) before this are refused")
    not_after = serializers.DateTimeField(allow_null=True, help_text="Credentials issued at or after this are refused")
    retired_at = serializers.DateTimeField(allow_null=True, help_text="Credentials issued after this are refused")
    compromised_at = serializers.DateTimeField(allow_null=True, help_text="Every credential of the key is refused")
    usable = serializers.BooleanField(
        help_text="Whether a credential signed with this key could be accepted at that instant: not compromised, "
        "and some issuance time inside its validity (not_before, not_after, retired_at), not after the instant, "
        "and recent enough for a credential of the maximum lifetime (MAX_CREDENTIAL_LIFETIME_DAYS) to be still "
        "valid. A retired key stays usable until its last credentials expire."
    )

    class Meta:
        ref_name = "RecognitionKey"


class RecognitionAgreementVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The history id of the version in force at that instant")
    status = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    min_assurance = serializers.CharField()
    credential_types = serializers.ListField(child=serializers.CharField())
    legal_basis = serializers.CharField()
    in_force = serializers.BooleanField(help_text="active and inside its window at that instant")

    class Meta:
        ref_name = "RecognitionAgreementVersion"


class RecognizedAuthoritySerializer(serializers.Serializer):
    issuer = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField(help_text="The authority's status at that instant")
    recognized = serializers.BooleanField(
        help_text="The terms held (domestic and active, or active under an agreement in force) and at least one "
        "key was usable"
    )
    basis = serializers.ChoiceField(choices=["domestic", "agreement"], allow_null=True)
    credential_types = serializers.ListField(
        child=serializers.CharField(),
        help_text="The types recognized under agreements in force; empty for domestic trust (every type) "
        "and when not recognized",
    )
    agreements = RecognitionAgreementVersionSerializer(many=True)
    keys = RecognitionKeySerializer(many=True)

    class Meta:
        ref_name = "RecognizedAuthority"


class RecognitionAtSerializer(serializers.Serializer):
    origin = serializers.CharField()
    destination = serializers.CharField()
    at = serializers.DateTimeField()
    authorities = RecognizedAuthoritySerializer(many=True)

    class Meta:
        ref_name = "RecognitionAt"


# Trust lists -----------------------------------------------------------------


class CountrySerializer(RequestObjectSerializer):
    country = CountryCodeField()


class TrustListApi(PublicApi):
    @extend_schema(
        operation_id="trust_lists_retrieve",
        tags=["trust"],
        parameters=[
            OpenApiParameter(
                "country", COUNTRY_CODE_SCHEMA, OpenApiParameter.PATH, description="ISO 3166-1 alpha-2, upper case"
            ),
            IF_NONE_MATCH,
            *CACHE_HEADERS,
        ],
        responses={
            (200, MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    f"A compact JWS (header `typ` {TRUST_LIST_TYP}, `kid` of a key in /.well-known/jwks.json) whose "
                    'payload is {"iss", "sub": country, "iat", "exp", "sequence", "authorities": [{"issuer", "name", '
                    '"country", "status", "max_assurance", "jwks": {"keys": [JWK + status, not_before, not_after, '
                    'retired_at, compromised_at]}, "recognized_for": [{"credential_types", "min_assurance", '
                    '"valid_from", "valid_until", "agreement_id"}]}]}. `recognized_for` is empty for the country\'s '
                    "own authorities. `sequence` grows only when the content changes. The same bytes (and ETag) are "
                    "served until the content changes, half the list's lifetime has passed or the registry's key "
                    "changes; Cache-Control max-age is at most 300 s and never past that instant."
                ),
            ),
            304: NOT_MODIFIED,
            (400, "application/json"): documented_error("`country` is not an ISO 3166-1 alpha-2 code (upper case)"),
            (503, "application/json"): documented_error("The registry cannot reach its database"),
        },
        summary="A country's signed trust list",
        description=(
            "Every authority the country trusts now (its own active ones, and the active foreign ones under an "
            "agreement in force), with their keys and the scope they are trusted for, signed by the registry. "
            "Send the ETag of the list you hold in If-None-Match: 304 while it is still the list served."
        ),
    )
    def get(self, request: Request, country: str) -> HttpResponse:
        if not is_country_code(country):
            CountrySerializer(data={"country": country}).is_valid(raise_exception=True)  # the 400 names it
        signed = trust_list(country)
        max_age = signed.max_age(timezone.now())
        return conditional_response(request, signed.body, content_type=MEDIA_TYPE, max_age=max_age, etag=signed.etag)


class RegistryJwksApi(PublicApi):
    @extend_schema(
        operation_id="registry_jwks",
        tags=["trust"],
        parameters=[IF_NONE_MATCH, *CACHE_HEADERS],
        responses={
            200: OpenApiResponse(response=JwksSerializer, description="A JWK Set of public keys only (RFC 7517 §5)"),
            304: NOT_MODIFIED,
            503: documented_error("The registry cannot reach its database"),
        },
        summary="The registry's public keys",
        description=(
            "The public JWKs of the key the registry signs trust lists with now and of retired keys whose lists "
            "may not have expired yet. Select the key by the trust list's header `kid`."
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        return not_modified_or(request, {"keys": published_keys()}, max_age=cache_max_age())


# Recognition at an instant -----------------------------------------------------


class RecognitionQuerySerializer(RequestObjectSerializer):
    origin = CountryCodeField()
    destination = CountryCodeField()
    at = InstantField(allow_date=True, required=False)


def present_recognition(answer: Recognition) -> dict[str, Any]:
    authority, at = answer.authority, answer.at
    max_lifetime = current_policy().max_lifetime
    return {
        "issuer": authority.issuer,
        "name": authority.name,
        "country": authority.country,
        "status": authority.status,
        "recognized": answer.recognized,
        "basis": answer.basis or None,
        "credential_types": list(answer.credential_types) if answer.recognized else [],
        "agreements": [
            {
                "id": agreement.id,
                "version": agreement.version,
                "status": agreement.status,
                "valid_from": iso_or_none(agreement.valid_from),
                "valid_until": iso_or_none(agreement.valid_until),
                "min_assurance": agreement.min_assurance,
                "credential_types": sorted(agreement.credential_types),
                "legal_basis": agreement.legal_basis,
                "in_force": agreement.in_force(at),
            }
            for agreement in answer.agreements
        ],
        "keys": [
            {
                "kid": key.kid,
                "alg": key.alg,
                "status": key.status,
                "not_before": iso_or_none(key.not_before),
                "not_after": iso_or_none(key.not_after),
                "retired_at": iso_or_none(key.retired_at),
                "compromised_at": iso_or_none(key.compromised_at),
                "usable": key.usable(at, max_lifetime=max_lifetime),
            }
            for key in authority.keys
        ],
    }


def _country_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, COUNTRY_CODE_SCHEMA, OpenApiParameter.QUERY, required=True, description=description)


class RecognitionAtApi(PublicApi):
    @extend_schema(
        operation_id="recognition_at",
        tags=["recognition"],
        parameters=[
            _country_parameter("origin", "The country of the authorities (ISO 3166-1 alpha-2, upper case)"),
            _country_parameter("destination", "The recognizing country (ISO 3166-1 alpha-2, upper case)"),
            OpenApiParameter(
                "at",
                instant_schema(allow_date=True),
                OpenApiParameter.QUERY,
                required=False,
                description=(
                    f"The instant: {describe(allow_date=True)}. Default: now. A future instant is answered from "
                    "today's rules."
                ),
            ),
        ],
        responses={
            200: RecognitionAtSerializer,
            400: documented_error(
                "A missing or unknown country, a bad `at`, a parameter given twice or an unknown one"
            ),
            503: documented_error("The registry cannot reach its database"),
        },
        summary="Which authorities of origin were recognized in destination at an instant",
        description=(
            "Answered from history: each authority of `origin` as it was at `at`, whether `destination` "
            "recognized it, under which agreement versions, and its keys as they were then. Recognized: the "
            "terms held (domestic trust for an active authority of the destination, or an active authority under "
            "an agreement in force) and at least one of its keys was `usable`, i.e. could sign a credential the "
            "verification would accept at `at`; with none (none registered yet, all compromised, or none valid "
            "recently enough) every credential of the authority is refused, so it is not recognized. "
            "`credential_types` is empty for domestic trust, which is not scoped."
        ),
    )
    def get(self, request: Request) -> Response:
        serializer = RecognitionQuerySerializer(data=query_object(request))
        serializer.is_valid(raise_exception=True)
        origin, destination = serializer.validated_data["origin"], serializer.validated_data["destination"]
        at = serializer.validated_data.get("at") or timezone.now()
        answers = recognition_at(destination=destination, origin=origin, at=at)
        return Response(
            {
                "origin": origin,
                "destination": destination,
                "at": iso_or_none(at),
                "authorities": [present_recognition(answer) for answer in answers],
            }
        )
