"""Request and answer shapes of the TRQP endpoints (DESIGN §9).

A query is a JSON object with exactly `entity_id`, `authority_id`, `action`,
`resource` and an optional `context`, which holds at most `time` (unknown
members are refused, here and in `context`: DESIGN §10). Strings are taken as
sent, without trimming. The question is about now when `context` is absent,
`{}` or null, or its `time` is absent or null (DESIGN §9: default now);
`context.time` is read by recognition/instants.py like every other instant.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.instants import describe, iso
from identity.models import Authority
from recognition.api.schema import COUNTRY_CODE_COMPONENT
from recognition.api.serializers import InstantField, RequestObjectSerializer, StrictCharField
from recognition.trqp.identifiers import DID_PATTERN, HTTPS_URL_PATTERN, is_country_code, is_identifier
from recognition.trqp.queries import ISSUE, RECOGNIZE, TrqpAnswer

MAX_LIMIT, DEFAULT_LIMIT, MAX_OFFSET = 200, 50, 1_000_000_000
MAX_IDENTIFIER = 500
AUTHORITY_ID_HELP = (
    "The country whose rules apply: an ISO 3166-1 alpha-2 code in upper case (CN), or its alias "
    "did:web:<registry host>:<code in lower case> as GET /trqp/metadata lists them in `authority_ids`. "
    "Any other DID or https URL is an unknown authority (404); anything else is malformed (400)"
)
# What the fields accept, exactly, so that a schema-driven client never sends
# a "valid" identifier that is refused (400): a well-formed one the registry
# does not know is a 404, which the schema documents.
_DID_SCHEMA = {"type": "string", "pattern": DID_PATTERN, "maxLength": MAX_IDENTIFIER}
_HTTPS_URL_SCHEMA = {"type": "string", "pattern": HTTPS_URL_PATTERN, "maxLength": MAX_IDENTIFIER}
ENTITY_ID_SCHEMA = {"anyOf": [_DID_SCHEMA, _HTTPS_URL_SCHEMA]}
AUTHORITY_ID_SCHEMA = {
    "anyOf": [{"$ref": f"#/components/schemas/{COUNTRY_CODE_COMPONENT}"}, _DID_SCHEMA, _HTTPS_URL_SCHEMA]
}


def _exact(**kwargs: Any) -> dict[str, Any]:
    return {"trim_whitespace": False, **kwargs}


class ActionField(StrictCharField):
    expected = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_exact(help_text=f"Always `{self.expected}` on this endpoint", **kwargs))

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value != self.expected:
            raise serializers.ValidationError(f"must be {self.expected!r} on this endpoint, not {value[:40]!r}")
        return value


@extend_schema_field({"type": "string", "enum": [ISSUE]})
class IssueActionField(ActionField):
    expected = ISSUE


@extend_schema_field({"type": "string", "enum": [RECOGNIZE]})
class RecognizeActionField(ActionField):
    expected = RECOGNIZE


@extend_schema_field(AUTHORITY_ID_SCHEMA)
class AuthorityIdField(StrictCharField):
    """A country code, or a well-formed identifier (a DID or an https URL)
    that recognition/trqp/identifiers.py resolves to a country or finds
    unknown (404). Taken as sent."""

    default_error_messages = {
        "authority_id": "{value!r} is not a country code (ISO 3166-1 alpha-2, upper case), a DID or an https URL"
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_exact(max_length=MAX_IDENTIFIER, help_text=AUTHORITY_ID_HELP, **kwargs))

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not (is_country_code(value) or is_identifier(value)):
            self.fail("authority_id", value=value[:40])
        return value


@extend_schema_field(ENTITY_ID_SCHEMA)
class EntityIdField(StrictCharField):
    """A DID or an https URL (404 when no authority ever had it); a value of
    another form is malformed (400) unless an authority had it as its issuer
    (identity.models.Authority allows any `did:` or `https://` string without
    spaces)."""

    default_error_messages = {"entity_id": "{value!r} is not a DID or an https URL"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_exact(max_length=MAX_IDENTIFIER, **kwargs))

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not is_identifier(value) and not self._was_an_issuer(value):
            self.fail("entity_id", value=value[:40])
        return value

    @staticmethod
    def _was_an_issuer(value: str) -> bool:
        # Only a value of the issuer's form is looked up: a NUL, say, never
        # reaches the database (PostgreSQL refuses it in a string literal).
        plausible = value.startswith(("https://", "did:")) and value.isprintable() and " " not in value
        return plausible and Authority.history.filter(issuer=value).exists()


class TrqpContextSerializer(RequestObjectSerializer):
    """The circumstances of the question: only `time` is understood, and any
    other member is refused rather than silently ignored."""

    time = InstantField(
        required=False,
        allow_null=True,
        help_text=f"The instant the question is about: {describe()}. Absent or null: now",
    )

    class Meta:
        ref_name = "TrqpContext"

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # `"context": null` is no context, as the schema says (allow_null);
        # the request-object check below would refuse it as not an object.
        if data is None and self.allow_null:
            return None
        return super().run_validation(data)


class TrqpQuerySerializer(RequestObjectSerializer):
    entity_id = EntityIdField(help_text="An authority's issuer (the JWT `iss`): a DID or an https URL")
    authority_id = AuthorityIdField()
    resource = StrictCharField(**_exact(max_length=100, help_text="A credential type code, e.g. merchant-identity"))
    context = TrqpContextSerializer(
        required=False, allow_null=True, help_text="Absent, null or `{}`: the question is about now"
    )

    def query(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "entity_id": data["entity_id"],
            "authority_id": data["authority_id"],
            "resource": data["resource"],
            "at": (data.get("context") or {}).get("time"),
        }


class TrqpAuthorizationQuerySerializer(TrqpQuerySerializer):
    """May authority `entity_id` issue `resource` in country `authority_id`? No other member is accepted."""

    action = IssueActionField()

    class Meta:
        ref_name = "TrqpAuthorizationQuery"


class TrqpRecognitionQuerySerializer(TrqpQuerySerializer):
    """Does country `authority_id` recognize authority `entity_id` for `resource`? No other member is accepted."""

    action = RecognizeActionField()

    class Meta:
        ref_name = "TrqpRecognitionQuery"


# Answers --------------------------------------------------------------------


def present_answer(answer: TrqpAnswer, verdict_name: str) -> dict[str, Any]:
    return {
        "entity_id": answer.entity_id,
        "authority_id": answer.authority_id,
        "action": answer.action,
        "resource": answer.resource,
        "time_requested": iso(answer.time_requested),
        "time_evaluated": iso(answer.time_evaluated),
        verdict_name: answer.granted,
        "message": answer.message,
    }


class TrqpAnswerSerializer(serializers.Serializer):
    entity_id = serializers.CharField()
    authority_id = serializers.CharField()
    action = serializers.CharField()
    resource = serializers.CharField()
    time_requested = serializers.DateTimeField(help_text="The instant the question is about (context.time, or now)")
    time_evaluated = serializers.DateTimeField(help_text="When the registry evaluated it")
    message = serializers.CharField(help_text="Why, for a human")


class TrqpAuthorizationResponseSerializer(TrqpAnswerSerializer):
    authorized = serializers.BooleanField()

    class Meta:
        ref_name = "TrqpAuthorizationResponse"


class TrqpRecognitionResponseSerializer(TrqpAnswerSerializer):
    recognized = serializers.BooleanField()

    class Meta:
        ref_name = "TrqpRecognitionResponse"


class TrqpMetadataSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The registry's identifier (REGISTRY_ISSUER)")
    name = serializers.CharField()
    description = serializers.CharField()
    controllers = serializers.ListField(child=serializers.CharField())
    authority_ids = serializers.DictField(
        child=serializers.CharField(),
        help_text=(
            "Each served country's alias, by country code: `did:web:<registry host>:<code in lower case>`, "
            "accepted wherever an `authority_id` is and meaning that country"
        ),
    )

    class Meta:
        ref_name = "TrqpMetadata"


class AssuranceLevelSerializer(serializers.Serializer):
    assurance_level = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        ref_name = "TrqpAssuranceLevel"


class AuthorizationPairSerializer(serializers.Serializer):
    action = serializers.CharField()
    resource = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        ref_name = "TrqpAuthorization"


class AuthorityQuerySerializer(RequestObjectSerializer):
    authority_id = AuthorityIdField(required=False)


class EntitiesQuerySerializer(RequestObjectSerializer):
    authority_id = AuthorityIdField()
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


class EntitySerializer(serializers.Serializer):
    entity_id = serializers.CharField(help_text="The authority's issuer")
    name = serializers.CharField()
    authority_id = serializers.CharField(help_text="Its country")
    status = serializers.CharField()
    max_assurance = serializers.CharField()

    class Meta:
        ref_name = "TrqpEntity"


class PaginationSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    total = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)

    class Meta:
        ref_name = "TrqpPagination"


class EntitiesSerializer(serializers.Serializer):
    items = EntitySerializer(many=True)
    pagination = PaginationSerializer()

    class Meta:
        ref_name = "TrqpEntities"
