"""What the OpenAPI schema says about request shapes, so that it tells the
truth the code enforces (issue 6 point 1: schema-driven fuzzing generates
from it, and clients read it):

- a request object takes its declared members and no other (DESIGN §10:
  unknown request fields are refused): `additionalProperties: false`;
- a country code is two upper-case letters (DESIGN §2; the code further
  requires a code ISO 3166-1 assigns, which a pattern cannot say).

drf-spectacular registers an extension when its class is defined; this
module is imported by recognition/api/urls.py, before any schema is built.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

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
