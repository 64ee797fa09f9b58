"""What the OpenAPI schema says about request shapes, so that it tells the
truth the code enforces (schema-driven fuzzing generates
from it, and clients read it):

- a request object takes its declared members and no other (DESIGN §10:
  unknown request fields are refused): `additionalProperties: false`;
- a country code is one of the ISO 3166-1 alpha-2 codes the code accepts
  (DESIGN §2), the enum of the component `CountryCode`, built from the one
  list core/countries.py holds;
- an instant matches the grammar core/instants.py reads, calendar included
  (a pattern that admits exactly the texts the parser accepts);
- a signed document answered as a compact JWS is documented by its media
  type, not as a JSON body.

Every operation that takes a country or an instant uses these helpers:
`country_code_schema()` (path, query or body) and `instant_schema()`.

drf-spectacular registers an extension when its class is defined; this
module is imported by recognition/api/urls.py, before any schema is built.
`add_shared_components` and `describe_compact_jws_without_schema` are
postprocessing hooks (settings SPECTACULAR_SETTINGS): the components the
helpers refer to, and answers that are compact JWSs (`application/jwt`,
`application/*+jwt`) documented as such, with no JSON schema a tool would
parse them against.
"""

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

from core.countries import COUNTRY_CODES
from core.instants import instant_pattern

COUNTRY_CODE_COMPONENT = "CountryCode"
NULL_COMPONENT = "NullEnum"  # drf-spectacular's own name for {"enum": [null]}
_COMPONENTS = "#/components/schemas/"


def country_code_schema(*, nullable: bool = False) -> dict[str, Any]:
    """A country code (ISO 3166-1 alpha-2, upper case), or a JSON null too
    where `nullable`. OpenAPI 3.0 ignores a `nullable` beside a `$ref`, so
    null is a second branch of its own."""
    code = {"$ref": f"{_COMPONENTS}{COUNTRY_CODE_COMPONENT}"}
    if nullable:
        return {"oneOf": [code, {"$ref": f"{_COMPONENTS}{NULL_COMPONENT}"}]}
    return code


COUNTRY_CODE_SCHEMA = country_code_schema()


def add_shared_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The components country_code_schema() refers to."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[COUNTRY_CODE_COMPONENT] = {
        "type": "string",
        "enum": list(COUNTRY_CODES),
        "description": "An ISO 3166-1 alpha-2 country code, upper case",
    }
    schemas.setdefault(NULL_COMPONENT, {"enum": [None]})
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def is_compact_jws(media_type: str) -> bool:
    """`application/jwt` (RFC 7519 §10.3.1) or a `+jwt` type such as
    `application/statuslist+jwt`: a compact JWS, three base64url parts."""
    kind, _, subtype = media_type.partition(";")[0].strip().lower().partition("/")
    return kind == "application" and (subtype == "jwt" or subtype.endswith("+jwt"))


def describe_compact_jws_without_schema(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A compact JWS is no JSON document, yet schema-driven tools read
    `application/jwt` as JSON (schemathesis does) and would parse the
    answer against a schema: an answer of such a media type is documented
    by its media type and description (the header and payload it carries),
    without a `schema` (OpenAPI 3.0 §4.7.11: optional)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                for media_type, content in answer.get("content", {}).items():
                    if is_compact_jws(media_type):
                        content.pop("schema", None)
    return result


class ClosedRequestObject(OpenApiSerializerExtension):
    target_class = "recognition.api.serializers.RequestObjectSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


# A string without U+0000: DRF refuses a NUL in a string field (PostgreSQL's
# text cannot hold one); the token alone takes any string (a malformed token
# is a recorded rejection, DESIGN §5).
NO_NUL_PATTERN = r"^[^\u0000]*$"


class RequestString(OpenApiSerializerFieldExtension):
    target_class = "recognition.api.serializers.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if any(isinstance(validator, ProhibitNullCharactersValidator) for validator in self.target.validators):
            schema["pattern"] = NO_NUL_PATTERN
        return schema


class CountryCode(OpenApiSerializerFieldExtension):
    target_class = "recognition.api.serializers.CountryCodeField"
    match_subclasses = True
    priority = 1  # before RequestString, whose subclass it is

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return country_code_schema(nullable=self.target.allow_null)


def instant_schema(*, allow_date: bool = False) -> dict[str, Any]:
    """An instant as core/instants.py reads it (with a bare date where
    `allow_date`): exactly the texts parse_instant accepts."""
    schema: dict[str, Any] = {"type": "string", "pattern": instant_pattern(allow_date=allow_date)}
    if not allow_date:
        schema["format"] = "date-time"
    return schema


class Instant(OpenApiSerializerFieldExtension):
    target_class = "recognition.api.serializers.InstantField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return instant_schema(allow_date=self.target.allow_date)
