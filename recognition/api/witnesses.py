"""The witnesses and what they did, for regulators (DESIGN §11): each one's
last cosignature, its last refusal, and a split view if one was detected
(a witness that cosigned a history this log does not have: the database was
rolled back, or someone showed the witness another log)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from recognition.api.audit import RegulatorReadApi
from recognition.api.filters import QueryParams
from recognition.api.history import REGULATOR_ERRORS
from recognition.log.witnesses import WitnessStatus, since, witness_statuses
from recognition.models import WitnessEvent, WitnessOutcome


class CosignedSerializer(serializers.Serializer):
    size = serializers.IntegerField(help_text="The size of the checkpoint it cosigned")
    timestamp = serializers.IntegerField(help_text="The POSIX time its cosignature states")
    received_at = serializers.DateTimeField()

    class Meta:
        ref_name = "WitnessCosigned"


class EventSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=WitnessOutcome.choices)
    size = serializers.IntegerField(help_text="The size of the checkpoint pushed")
    witness_size = serializers.IntegerField(allow_null=True, help_text="The size the witness said it holds")
    http_status = serializers.IntegerField(allow_null=True, help_text="null: no HTTP answer (unreachable, timeout)")
    reason = serializers.CharField()
    at = serializers.DateTimeField()

    class Meta:
        ref_name = "WitnessEvent"


class WitnessSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key name of its vkey")
    country = serializers.CharField()
    url = serializers.CharField()
    vkey = serializers.CharField(help_text="Signed-note vkey, type 0x04 (cosignature/v1)")
    active = serializers.BooleanField()
    retired_at = serializers.DateTimeField(allow_null=True)
    last_cosigned = CosignedSerializer(allow_null=True)
    last_refusal = EventSerializer(allow_null=True)
    split_view = EventSerializer(allow_null=True, help_text="The latest split view it showed, if any: a fork")

    class Meta:
        ref_name = "Witness"


def _event(event: WitnessEvent | None) -> dict | None:
    if event is None:
        return None
    return {
        "outcome": event.outcome,
        "size": event.size,
        "witness_size": event.witness_size,
        "http_status": event.http_status,
        "reason": event.reason,
        "at": since(event.created_at),
    }


def as_json(status: WitnessStatus) -> dict:
    witness, cosigned = status.witness, status.last_cosignature
    return {
        "name": witness.name,
        "country": witness.country.code,
        "url": witness.url,
        "vkey": witness.vkey,
        "active": witness.active,
        "retired_at": since(witness.retired_at),
        "last_cosigned": None
        if cosigned is None
        else {
            "size": cosigned.checkpoint.size,
            "timestamp": cosigned.timestamp,
            "received_at": since(cosigned.created_at),
        },
        "last_refusal": _event(status.last_refusal),
        "split_view": _event(status.split_view),
    }


class WitnessListApi(RegulatorReadApi):
    @extend_schema(
        operation_id="audit_log_witnesses",
        tags=["audit log"],
        responses={200: WitnessSerializer(many=True), **REGULATOR_ERRORS},
        summary="The witnesses and their status (regulators)",
        description=(
            "Every witness, active and retired, by name: its last cosignature, its last refusal, and `split_view` "
            "when it showed that it cosigned a history this log does not have (a fork: a rolled-back database, or "
            "another log shown to it). Regulator key, or a regulator's or the superuser's session."
        ),
    )
    def get(self, request: Request) -> Response:
        QueryParams.parse(request)
        return Response([as_json(status) for status in witness_statuses()])
