"""The audit log for regulators (DESIGN §6, §7, §10): filtered rows, a page at
a time by cursor or every matching row streamed as CSV or JSON Lines, and
the chain check.

A row is shown exactly as the chain hashes it (audit.hashed_fields), plus its
prev_hash and hash, so that anyone can recompute every hash from an export.
"""

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsRegulator
from accounts.throttling import ReadThrottle
from recognition.api import filters
from recognition.api.history import REGULATOR_ERRORS
from recognition.api.pagination import AuditCursorPagination, paginated_response
from recognition.models import Verification
from recognition.services.audit import check_chain, hashed_fields

EXPORT_CHUNK_ROWS = 2000  # rows read from the database at a time
EXPORT_WRITE_ROWS = 500  # rows sent to the client per write
COLUMNS = (
    "id", "seq", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject",
    "jti", "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "prev_hash", "hash",
)  # fmt: skip
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
# A spreadsheet runs a cell that starts with one of these as a formula; the
# token claims in a row (issuer, kid, subject, jti) are whatever was presented.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def audit_row(row: Verification) -> dict[str, Any]:
    return {**hashed_fields(row), "prev_hash": row.prev_hash, "hash": row.hash}


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)  # reason codes never contain a space
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_lines(rows: Iterator[Verification]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in audit_row(row).values()])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header row when there is no row


def _jsonl_lines(rows: Iterator[Verification]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(audit_row(row), ensure_ascii=False, separators=(",", ":")) + "\n"


def export_chunks(queryset: QuerySet, fmt: str) -> Iterator[bytes]:
    """The rows of `queryset` in seq order, encoded as they are read: the
    database is read EXPORT_CHUNK_ROWS rows at a time (a server-side cursor
    on PostgreSQL) and nothing holds more than one chunk."""
    rows = queryset.order_by("seq").iterator(chunk_size=EXPORT_CHUNK_ROWS)
    lines = _csv_lines(rows) if fmt == "csv" else _jsonl_lines(rows)
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= EXPORT_WRITE_ROWS:
            yield "".join(batch).encode("utf-8", "backslashreplace")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8", "backslashreplace")


def export_response(queryset: QuerySet, fmt: str) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(export_chunks(queryset, fmt), content_type=MEDIA_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="audit-verifications-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


class AuditRowSerializer(serializers.Serializer):
    """One audit row (DESIGN §6), as the chain hashes it."""

    id = serializers.UUIDField(help_text="Lower-case hex with dashes, as hashed")
    seq = serializers.IntegerField()
    created_at = serializers.DateTimeField(help_text="Always YYYY-MM-DDTHH:MM:SS.ffffffZ, as hashed")
    client = serializers.CharField(help_text="The API key's name, or user:<username>")
    destination = serializers.CharField()
    origin = serializers.CharField(
        help_text="The issuer's country once the signature verified with a key not compromised; else empty"
        " (never the declared origin)"
    )
    declared_origin = serializers.CharField(help_text="The origin the caller declared; empty if none")
    issuer = serializers.CharField(help_text="What the token claimed (truncated), verified or not")
    kid = serializers.CharField()
    subject = serializers.CharField()
    jti = serializers.CharField()
    token_sha256 = serializers.CharField()
    decision = serializers.ChoiceField(choices=["accepted", "rejected"])
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Reason codes")
    agreement_id = serializers.IntegerField(allow_null=True)
    agreement_version = serializers.IntegerField(allow_null=True, help_text="history_id of the applied version")
    prev_hash = serializers.CharField()
    hash = serializers.CharField(
        help_text="SHA-256 (lower-case hex) of prev_hash's 64 ASCII hex digits followed by the UTF-8 canonical JSON"
        " (sorted keys, no spaces, non-ASCII unescaped) of the 16 members before prev_hash; README: The audit log"
    )

    class Meta:
        ref_name = "AuditRow"

    def to_representation(self, row: Verification) -> dict[str, Any]:
        # The chain's own representation, so that a row recomputes its hash.
        return audit_row(row)


class IntegritySerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    records = serializers.IntegerField(help_text="How many rows the log holds")
    head = serializers.CharField(help_text="The hash of the last row of the unbroken chain (64 zeros for an empty log)")
    first_broken_seq = serializers.IntegerField(allow_null=True, help_text="null when intact")

    class Meta:
        ref_name = "AuditIntegrity"


class RegulatorReadApi(APIView):
    permission_classes = [IsRegulator]
    throttle_classes = [ReadThrottle]
    renderer_classes = [JSONRenderer]


def _file(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=OpenApiTypes.STR, description=description)


class AuditVerificationListApi(RegulatorReadApi):
    pagination_class = AuditCursorPagination

    @extend_schema(
        operation_id="audit_verifications_list",
        tags=["audit"],
        parameters=[filters.AuditFilter],
        responses={
            (200, "application/json"): OpenApiResponse(
                AuditRowSerializer(many=True), description="format=json (default): one page of rows, by cursor"
            ),
            (200, "text/csv"): _file("format=csv: a header row, then one row per line (reasons space-separated)"),
            (200, "application/jsonl"): _file("format=jsonl: one JSON object per line"),
            **REGULATOR_ERRORS,
        },
        summary="The audit log, filtered (regulators)",
        description=(
            "Rows in seq order, a page at a time by cursor (follow `next`), or with format=csv or format=jsonl "
            "every matching row, streamed as an attachment. `since` is inclusive, `until` exclusive. Regulator "
            "key, or a regulator's or the superuser's session."
        ),
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        params = filters.AuditFilter.parse(request)
        if params["format"] in filters.EXPORT_FORMATS:
            return export_response(filters.filter_audit(Verification.objects.all(), params), params["format"])
        cursor = self.pagination_class().decode_cursor(request)
        queryset = filters.filter_audit(Verification.objects.all(), params, cursor)
        return paginated_response(request=request, view=self, queryset=queryset, serializer_class=AuditRowSerializer)


class AuditIntegrityApi(RegulatorReadApi):
    @extend_schema(
        operation_id="audit_integrity",
        tags=["audit"],
        responses={200: IntegritySerializer, **REGULATOR_ERRORS},
        summary="Check the audit chain (regulators)",
        description="Recomputes every row's hash and link, as `manage.py verify_audit_chain` does.",
    )
    def get(self, request: Request) -> Response:
        filters.QueryParams.parse(request)
        return Response(IntegritySerializer(check_chain()).data)
