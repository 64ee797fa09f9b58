"""Public reads (DESIGN §7): authorities, their public keys, and agreements.

No key is needed. A caller who sends one is still authenticated (a wrong key
is a 401), because a regulator's key, or an administrator's session, shows
draft agreements too (DESIGN §10).
"""

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.throttling import ReadThrottle
from identity.models import Authority, AuthorityKey
from recognition.api import filters
from recognition.api.conditional import CACHE_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, not_modified_or
from recognition.api.pagination import RegistryPagination, paginated_response
from recognition.api.serializers import documented_error
from recognition.services.trust_lists import cache_max_age, published_key

READ_ERRORS = {
    400: documented_error("A query parameter is unknown, repeated or has a bad value (the detail names it)"),
    401: documented_error("An Authorization header was sent with an unknown, revoked or expired API key"),
    429: documented_error("Throttled; Retry-After says when to come back"),
    503: documented_error("The registry cannot reach its database"),
}
NOT_FOUND = {404: documented_error("No such object (or a page number past the last page)")}


# Output --------------------------------------------------------------------


class AuthoritySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    issuer = serializers.CharField(help_text="The `iss` of its credentials")
    name = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField(help_text="active, suspended or revoked")
    max_assurance = serializers.CharField(help_text="The highest level it is accredited to issue")
    jwks_uri = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Authority"

    @extend_schema_field(serializers.URLField(help_text="Its public keys, as a JWKS"))
    def get_jwks_uri(self, authority: Authority) -> str:
        return self.context["request"].build_absolute_uri(reverse("authority-jwks", args=[authority.pk]))


class JwkSerializer(serializers.Serializer):
    """A public JWK with the registry's members beside it (RFC 7517 §4: a
    reader ignores members it does not know); dates are RFC 3339 UTC."""

    kty = serializers.CharField(help_text="OKP, EC or RSA")
    crv = serializers.CharField(required=False, help_text="OKP and EC keys")
    x = serializers.CharField(required=False, help_text="OKP and EC keys")
    y = serializers.CharField(required=False, help_text="EC keys")
    n = serializers.CharField(required=False, help_text="RSA keys")
    e = serializers.CharField(required=False, help_text="RSA keys")
    kid = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField(help_text="Always sig")
    status = serializers.CharField(help_text="active, retired or compromised: a verifier refuses a compromised key")
    not_before = serializers.DateTimeField(help_text="Credentials issued (iat) before this are refused")
    not_after = serializers.DateTimeField(allow_null=True, help_text="Credentials issued after this are refused")
    retired_at = serializers.DateTimeField(allow_null=True, help_text="Credentials issued after this are refused")
    compromised_at = serializers.DateTimeField(allow_null=True, help_text="Every credential of the key is refused")

    class Meta:
        ref_name = "AuthorityJwk"

    def to_representation(self, key: AuthorityKey) -> dict[str, Any]:
        return published_key(key)


class JwksSerializer(serializers.Serializer):
    keys = JwkSerializer(many=True)

    class Meta:
        ref_name = "AuthorityJwks"


class AgreementAuthoritySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    issuer = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        ref_name = "AgreementAuthority"


class CredentialTypeCodes(serializers.ListField):
    child = serializers.CharField()

    def to_representation(self, types: Any) -> list[str]:
        return sorted(credential_type.code for credential_type in types.all())  # prefetched


class AgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    destination = serializers.CharField(help_text="The recognizing country")
    origin = serializers.CharField(help_text="The recognized authority's country")
    authority = AgreementAuthoritySerializer()
    status = serializers.CharField(help_text="draft, active, suspended or terminated")
    credential_types = CredentialTypeCodes(help_text="The credential type codes it recognizes")
    min_assurance = serializers.CharField()
    valid_from = serializers.DateTimeField(help_text="Inclusive")
    valid_until = serializers.DateTimeField(allow_null=True, help_text="Exclusive; null: open-ended")
    legal_basis = serializers.CharField()
    reference_url = serializers.CharField()
    in_force = serializers.BooleanField(help_text="Active and inside its window now")
    reciprocal = serializers.BooleanField(
        help_text="Whether an active or suspended agreement the other way exists: the origin recognizing an "
        "authority of the destination"
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Agreement"


# Views ---------------------------------------------------------------------


class PublicReadApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ReadThrottle]
    pagination_class = RegistryPagination


def _one(queryset: QuerySet, pk: int, what: str) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no {what} with id {pk}")
    return found


def _authorities() -> QuerySet:
    return Authority.objects.order_by("country", "name", "id")


class AuthorityListApi(PublicReadApi):
    @extend_schema(
        operation_id="authorities_list",
        tags=["authorities"],
        parameters=[filters.AuthorityFilter],
        responses={200: AuthoritySerializer(many=True), **READ_ERRORS, **NOT_FOUND},
        summary="List the authorities",
        description="Every authority of every country, in every status; ordered by country and name.",
    )
    def get(self, request: Request) -> Response:
        params = filters.AuthorityFilter.parse(request)
        queryset = filters.filter_authorities(_authorities(), params)
        return paginated_response(request=request, view=self, queryset=queryset, serializer_class=AuthoritySerializer)


class AuthorityDetailApi(PublicReadApi):
    @extend_schema(
        operation_id="authorities_retrieve",
        tags=["authorities"],
        responses={200: AuthoritySerializer, **READ_ERRORS, **NOT_FOUND},
        summary="One authority",
    )
    def get(self, request: Request, pk: int) -> Response:
        filters.QueryParams.parse(request)
        authority = _one(_authorities(), pk, "authority")
        return Response(AuthoritySerializer(authority, context={"request": request}).data)


class AuthorityJwksApi(PublicReadApi):
    # The same keys for everyone: a session is never read (it would add
    # `Vary: Cookie` and split shared caches); a key sent is still checked.
    authentication_classes = [ApiKeyAuthentication]

    @extend_schema(
        operation_id="authorities_jwks",
        tags=["authorities"],
        parameters=[IF_NONE_MATCH, *CACHE_HEADERS],
        responses={200: JwksSerializer, 304: NOT_MODIFIED, **READ_ERRORS, **NOT_FOUND},
        summary="An authority's public keys (JWKS)",
        description=(
            "Every key the authority ever registered, public members only, each with its `status` and validity "
            "(`not_before`, `not_after`, `retired_at`, `compromised_at`: RFC 3339 UTC, or null). Retired and "
            "compromised keys stay listed: a verifier must refuse a compromised key, and a credential issued "
            "after `retired_at` or outside `not_before`..`not_after`."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        filters.QueryParams.parse(request)
        authority = _one(Authority.objects.all(), pk, "authority")
        keys = AuthorityKey.objects.filter(authority=authority).order_by("not_before", "kid")  # as the trust lists
        return not_modified_or(request, JwksSerializer({"keys": keys}).data, max_age=cache_max_age())


class AgreementListApi(PublicReadApi):
    @extend_schema(
        operation_id="agreements_list",
        tags=["agreements"],
        parameters=[filters.AgreementFilter],
        responses={200: AgreementSerializer(many=True), **READ_ERRORS, **NOT_FOUND},
        summary="List the recognition agreements",
        description=(
            "Every agreement but drafts; a regulator (key or session) also sees drafts, and a country "
            "administrator (session) the drafts whose destination is their country."
        ),
    )
    def get(self, request: Request) -> Response:
        params = filters.AgreementFilter.parse(request)
        queryset = filters.filter_agreements(filters.readable_agreements(request), params)
        return paginated_response(
            request=request,
            view=self,
            queryset=filters.with_agreement_facts(queryset).order_by("destination", "origin", "id"),
            serializer_class=AgreementSerializer,
            prepare=filters.mark_in_force,
        )


class AgreementDetailApi(PublicReadApi):
    @extend_schema(
        operation_id="agreements_retrieve",
        tags=["agreements"],
        responses={200: AgreementSerializer, **READ_ERRORS, **NOT_FOUND},
        summary="One recognition agreement",
        description="A draft is found only by a regulator or an administrator of its destination.",
    )
    def get(self, request: Request, pk: int) -> Response:
        filters.QueryParams.parse(request)
        agreement = _one(filters.with_agreement_facts(filters.readable_agreements(request)), pk, "agreement")
        (agreement,) = filters.mark_in_force([agreement])
        return Response(AgreementSerializer(agreement).data)
