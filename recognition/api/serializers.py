"""Request shapes of the API (DESIGN §5, §10), and the error shape.

A request is a JSON object with exactly the documented members (DESIGN §10:
unknown request fields are refused); anything else is a 400 whose detail
names the problem. The answers of a verification are in answers.py.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from core.countries import is_country_code
from core.instants import iso, parse_instant
from core.json import json_type
from recognition.api.errors import ERROR_CODES
from recognition.services.verification import VerificationRequest

MAX_BATCH = 100


class StrictCharField(serializers.CharField):
    """A JSON string, never a number or a boolean coerced into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenField(StrictCharField):
    """Any JSON string: a token with NUL or lone surrogate characters is a
    malformed token (a recorded rejection, DESIGN §5), not a malformed request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, allow_blank=True, **kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator)
        ]


class CountryCodeField(StrictCharField):
    """An ISO 3166-1 alpha-2 code as DESIGN §2 writes it: upper case only."""

    default_error_messages = {"country": "{value!r} is not an ISO 3166-1 alpha-2 country code (upper case)"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not is_country_code(value):
            self.fail("country", value=value[:10])
        return value


class InstantField(serializers.Field):
    """An instant under the one rule of recognition/instants.py, with a
    bare date (00:00:00Z) where `allow_date`. A JSON null is "not given" only
    where the field says `allow_null`."""

    def __init__(self, *, allow_date: bool = False, **kwargs: Any) -> None:
        self.allow_date = allow_date
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"expected a string, not {json_type(data)}")
        try:
            return parse_instant(data, allow_date=self.allow_date)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: datetime) -> str:
        return iso(value)


# DRF's own `?format=`, which the browsable API may add.
FRAMEWORK_PARAMETERS = frozenset({"format"})


def query_object(request: Request) -> dict[str, str]:
    """The query string as a JSON-like object for a RequestObjectSerializer:
    one value per name; a name given twice is refused rather than one of its
    values picked."""
    data: dict[str, str] = {}
    repeated = []
    for name, values in request.query_params.lists():
        if name in FRAMEWORK_PARAMETERS:
            continue
        if len(values) > 1:
            repeated.append(name[:40])
        data[name] = values[-1]
    if repeated:
        raise serializers.ValidationError({"non_field_errors": [f"given more than once: {', '.join(repeated)}"]})
    return data


class RequestObjectSerializer(serializers.Serializer):
    """A JSON object with the declared fields and no other."""

    def run_validation(self, data: Any = empty) -> Any:
        if data is not empty and not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [f"expected a JSON object, not {json_type(data)}"]}, code="invalid"
            )
        return super().run_validation(data)

    def to_internal_value(self, data: Mapping) -> dict:
        unknown = sorted(str(name)[:40] for name in set(data) - set(self.fields))
        errors: dict[str, Any] = {}
        if unknown:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = [f"unknown fields: {', '.join(unknown)[:200]}"]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class VerificationRequestSerializer(RequestObjectSerializer):
    """One verification request: no other member is accepted."""

    token = TokenField(help_text="The credential: a compact JWS (DESIGN §4).")
    destination = CountryCodeField(help_text="The country where the credential is presented (upper case).")
    origin = CountryCodeField(
        required=False,
        allow_null=True,
        help_text="Optional: the country the merchant says it comes from; checked against the issuer's country.",
    )

    class Meta:
        ref_name = "Verification"

    def run_validation(self, data: Any = empty) -> Any:
        validated = well_formed_request(data)
        return validated if validated is not None else super().run_validation(data)

    @staticmethod
    def to_request(data: Mapping) -> VerificationRequest:
        return VerificationRequest(token=data["token"], destination=data["destination"], origin=data.get("origin"))


def well_formed_request(data: Any) -> dict[str, Any] | None:
    """What the serializer validates `data` into, when `data` has the common
    well-formed shape (a JSON object of a string `token`, a known upper-case
    `destination` and, optionally, a known `origin` or null, and no other
    member); None for anything else, which the serializer's fields then
    refuse in their own words. Building and running the fields costs more
    than parsing the token; a test checks that both agree on the same
    inputs."""
    if type(data) is not dict or not 2 <= len(data) <= 3:
        return None
    token, destination, origin = data.get("token"), data.get("destination"), data.get("origin")
    if type(token) is not str or type(destination) is not str or not is_country_code(destination):
        return None
    if len(data) != 2 + ("origin" in data) or not (origin is None or (type(origin) is str and is_country_code(origin))):
        return None
    return dict(data)


def well_formed_batch(data: Any) -> dict[str, Any] | None:
    """`well_formed_request` for a batch: every item well formed, or None."""
    if type(data) is not dict or len(data) != 1 or type(items := data.get("items")) is not list:
        return None
    if not 1 <= len(items) <= MAX_BATCH:
        return None
    validated = [well_formed_request(item) for item in items]
    return None if None in validated else {"items": validated}


class BatchItemsField(serializers.ListField):
    """1 to MAX_BATCH requests; the count is checked before any item, and an
    item's errors are keyed by its index."""

    def to_internal_value(self, data: Any) -> list:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class BatchRequestSerializer(RequestObjectSerializer):
    """A batch: `items` and no other member."""

    items = BatchItemsField(
        child=VerificationRequestSerializer(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_BATCH,
        help_text=f"1 to {MAX_BATCH} verification requests, answered in this order",
    )

    class Meta:
        ref_name = "VerificationBatch"

    def run_validation(self, data: Any = empty) -> Any:
        validated = well_formed_batch(data)
        return validated if validated is not None else super().run_validation(data)


# Errors ----------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text=f"A stable machine-readable code: {', '.join(ERROR_CODES)}.")
    detail = serializers.CharField(help_text="What was wrong, for a human.")

    class Meta:
        ref_name = "Error"


def documented_error(description: str) -> OpenApiResponse:
    """An error answer of the DESIGN §10 shape, for the OpenAPI schema."""
    return OpenApiResponse(response=ErrorSerializer, description=description)
