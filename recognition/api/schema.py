"""What the OpenAPI schema says about request shapes, so that it tells the
truth the code enforces (schema-driven fuzzing generates
from it, and clients read it):

- a request object takes its declared members and no other (DESIGN §10:
  unknown request fields are refused): `additionalProperties: false`;
- a country code is two upper-case letters (DESIGN §2; the code further
  requires a code ISO 3166-1 assigns, which a pattern cannot say);
- an instant has the shape recognition/instants.py reads (the calendar
  check, a real day and time, is beyond a pattern).

drf-spectacular registers an extension when its class is defined; this
module is imported by recognition/api/urls.py, before any schema is built.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

from core.instants import instant_pattern

COUNTRY_CODE_PATTERN = "^[A-Z]{2}$"
COUNTRY_CODE_SCHEMA = {"type": "string", "pattern": COUNTRY_CODE_PATTERN, "minLength": 2, "maxLength": 2}


class ClosedRequestObject(OpenApiSerializerExtension):
    target_class = "recognition.api.serializers.RequestObjectSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


class CountryCode(OpenApiSerializerFieldExtension):
    target_class = "recognition.api.serializers.CountryCodeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return dict(COUNTRY_CODE_SCHEMA)


def instant_schema(*, allow_date: bool = False) -> dict[str, Any]:
    """An instant parameter as recognition/instants.py reads it."""
    schema: dict[str, Any] = {"type": "string", "pattern": instant_pattern(allow_date=allow_date)}
    if not allow_date:
        schema["format"] = "date-time"
    return schema


class Instant(OpenApiSerializerFieldExtension):
    target_class = "recognition.api.serializers.InstantField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return instant_schema(allow_date=self.target.allow_date)
