"""Request and response shapes of the verification API (DESIGN §5)."""

from typing import Any

from django_countries import countries
from rest_framework import serializers

from recognition.reasons import Reason
from recognition.services.verification import VerificationRequest

MAX_BATCH = 100
_COUNTRY_CODES = frozenset(code for code, _ in countries)


class StrictCharField(serializers.CharField):
    """A JSON string, never a number or a boolean coerced into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CountryCodeField(StrictCharField):
    default_error_messages = {"country": "{value!r} is not an ISO 3166-1 alpha-2 country code (upper case)"}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value not in _COUNTRY_CODES:
            self.fail("country", value=value[:10])
        return value


class RefuseUnknownFields:
    """DESIGN §10: unknown request fields are refused."""

    def validate(self, attrs: dict) -> dict:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(f"unknown fields: {', '.join(unknown)[:200]}")
        return attrs


class VerificationRequestSerializer(RefuseUnknownFields, serializers.Serializer):
    token = StrictCharField(trim_whitespace=False, allow_blank=True)
    destination = CountryCodeField(trim_whitespace=False)
    origin = CountryCodeField(trim_whitespace=False, required=False, allow_null=True)

    def to_request(self) -> VerificationRequest:
        data = self.validated_data
        return VerificationRequest(token=data["token"], destination=data["destination"], origin=data.get("origin"))


class BatchRequestSerializer(RefuseUnknownFields, serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=MAX_BATCH, help_text="1 to 100 requests"
    )

    def validate_items(self, items: list[dict]) -> list[VerificationRequest]:
        requests = []
        for index, item in enumerate(items):
            serializer = VerificationRequestSerializer(data=item)
            if not serializer.is_valid():
                raise serializers.ValidationError({index: serializer.errors})
            requests.append(serializer.to_request())
        return requests


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Reason.choices)
    detail = serializers.CharField()


class IssuerSerializer(serializers.Serializer):
    issuer = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()


class MerchantSerializer(serializers.Serializer):
    registration_number = serializers.CharField()
    legal_name = serializers.CharField()
    status = serializers.CharField(allow_null=True)


class CredentialSerializer(serializers.Serializer):
    jti = serializers.CharField()
    type = serializers.CharField()
    assurance = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class AgreementRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_basis = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)


class AuditRefSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()


class VerificationResponseSerializer(serializers.Serializer):
    id = serializers.CharField()
    decision = serializers.ChoiceField(choices=["accepted", "rejected"])
    accepted = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    origin = serializers.CharField(allow_null=True)
    destination = serializers.CharField()
    evaluated_at = serializers.DateTimeField()
    issuer = IssuerSerializer(allow_null=True)
    merchant = MerchantSerializer(allow_null=True)
    credential = CredentialSerializer(allow_null=True)
    agreement = AgreementRefSerializer(allow_null=True)
    audit = AuditRefSerializer()


class BatchResponseSerializer(serializers.Serializer):
    results = VerificationResponseSerializer(many=True)
