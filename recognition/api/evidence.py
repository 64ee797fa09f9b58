"""Dispute evidence over HTTP (DESIGN §11): GET audit/log/entries/{id}/evidence,
for regulators and the API key that made the decision, like the entry's
proof (recognition/api/log.py). The document is described by
recognition/log/evidence.py and checked offline by `manage.py verify_evidence`.

A change entry's id is a 404 (only decisions have evidence), with a detail
saying so to a regulator; a platform key sees a 404 for anything but its own
decisions either way."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from recognition.api.filters import QueryParams
from recognition.api.log import KEYED_ERRORS, HasKeyOrSession, KeyedLogApi, may_see
from recognition.api.serializers import documented_error
from recognition.log import proofs
from recognition.log.disputes import evidence
from recognition.log.evidence_format import FORMAT


class ProvenEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    seq = serializers.IntegerField(min_value=0, help_text="The entry's leaf index")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || entry), base64")
    entry = serializers.CharField(help_text="The entry's exact bytes as a string (UTF-8 canonical JSON)")
    inclusion = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 9162 §2.1.3 hashes, base64, in the checkpoint's tree"
    )

    class Meta:
        ref_name = "ProvenEntry"


class EvidenceSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[FORMAT], help_text="The document's format and version")
    decision = ProvenEntrySerializer(help_text="The decision entry")
    receipt = serializers.CharField(
        help_text="The decision's receipt (audit-receipt+jwt), signed with the log's current key, iat the decision's "
        "instant"
    )
    agreement = ProvenEntrySerializer(
        allow_null=True, help_text="The change entry of the agreement version applied; null: see absent"
    )
    authority = ProvenEntrySerializer(
        allow_null=True, help_text="The change entry of the token's issuer, as of the decision; null: see absent"
    )
    key = ProvenEntrySerializer(
        allow_null=True, help_text="The change entry of the token's key (kid), as of the decision; null: see absent"
    )
    absent = serializers.DictField(
        child=serializers.CharField(), help_text="For each of agreement, authority and key that is null: why"
    )
    checkpoint = serializers.CharField(
        help_text="The served checkpoint every proof leads to: the log's signature line, then witnesses' cosignatures"
    )
    log_vkeys = serializers.ListField(child=serializers.CharField(), help_text="The log's vkeys, as GET key lists them")
    witness_vkeys = serializers.ListField(
        child=serializers.CharField(), help_text="The vkeys (cosignature/v1) of the witnesses in service"
    )

    class Meta:
        ref_name = "Evidence"


def _example_entry(seq: int, body: str) -> dict[str, Any]:
    return {
        "id": "0b6f3c0e-5d7e-4a43-9a55-2f1e8c7d9b10" if seq == 57 else "5a0c8f52-1b7d-4f0e-8d0a-3c6f1e2b4d59",
        "seq": seq,
        "leaf_hash": "q3C2mJw0y8hEoY1tS7c0nKq4O9f7bD2WkqN2cV5Qy1E=",
        "entry": body,
        "inclusion": ["3n2m7yZ0oQe1Xk9v1r0yH5c2rU3Jp6bGg4tF8sWlZkA=", "Vx1cQ2m8fJ0bT4nL6pR9sY3uE7hK5dA1gW2zX0oI8qM="],
    }


EXAMPLE = {
    "format": FORMAT,
    "decision": _example_entry(
        57,
        '{"agreement_id":1,"agreement_version":3,"client":"shop-platform","created_at":"2026-12-06T10:15:30.123456Z",'
        '"declared_origin":"","decision":"accepted","destination":"CN","id":"0b6f3c0e-5d7e-4a43-9a55-2f1e8c7d9b10",'
        '"issuer":"https://registro-cl.example/issuer","jti":"…","kid":"…","kind":"decision","origin":"CL",'
        '"reasons":[],"subject":"CL-0001","token_sha256":"…"}',
    ),
    "receipt": "eyJhbGciOiJFZERTQSIsImtpZCI6IjFjMmFlMWY0IiwidHlwIjoiYXVkaXQtcmVjZWlwdCtqd3QifQ.eyJpc3MiOi….…",
    "agreement": _example_entry(12, '{"change_type":"~","created_at":"…","history_id":3,"kind":"change",…}'),
    "authority": _example_entry(4, '{"change_type":"+","created_at":"…","history_id":2,"kind":"change",…}'),
    "key": None,
    "absent": {"key": "the authority had no key 'k-2019' in the log then"},
    "checkpoint": "registry.example/audit\n80\nZ3W9…=\n\n— registry.example/audit Gq7h…\n— cl-witness AAAA…\n",
    "log_vkeys": ["registry.example/audit+1c2ae1f4+AX3k…"],
    "witness_vkeys": ["cl-witness+5e1a9c02+BP9q…"],
}


class EntryEvidenceApi(KeyedLogApi):
    permission_classes = [HasKeyOrSession]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="audit_log_entry_evidence",
        tags=["audit log"],
        responses={
            200: EvidenceSerializer,
            **KEYED_ERRORS,
            404: documented_error(
                "No such decision (or none this API key may see); a registry change's entry has no evidence"
            ),
            409: documented_error(
                "not_yet_integrated: an entry it proves is in no served checkpoint yet; see Retry-After"
            ),
        },
        examples=[OpenApiExample("A decision whose key is not in the registry", value=EXAMPLE, response_only=True)],
        summary="Evidence of a decision for a dispute (regulators, or the key that made the decision)",
        description=(
            "One JSON document that proves offline what was decided and under which rules: the decision entry, the "
            "change entries of the agreement version, the authority and the key it used, each with its inclusion "
            "proof in the served checkpoint's tree, that checkpoint (cosigned by witnesses), the log's and "
            "witnesses' vkeys and the receipt. Check it with `manage.py verify_evidence FILE --log-key VKEY`."
        ),
    )
    def get(self, request: Request, entry_id: Any) -> Response:
        QueryParams.parse(request)
        if not may_see(request, entry_id):
            raise proofs.LogRefusal(404, "not_found", f"no decision {entry_id} this caller may see")
        response = Response(evidence(entry_id))
        response["Cache-Control"] = "private, no-store"
        return response
