"""The audit log's decisions for regulators (DESIGN §6, §7, §10): filtered
rows in time order, a page at a time by cursor or every matching row
streamed as CSV or JSON Lines, and the log's integrity check.

A row shows the decision's columns, its leaf index in the log (`seq`, null
until the integrator has placed it), its leaf hash and the entry's exact
bytes (`entry`), so that anyone can recompute SHA-256(0x00 || entry) from an
export and ask the log for its inclusion proof.
"""

import base64
import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
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
from recognition.log.entries import timestamp
from recognition.log.integrity import check_log
from recognition.models import LogEntry, Verification

EXPORT_CHUNK_ROWS = 2000  # rows read from the database at a time
EXPORT_WRITE_ROWS = 500  # rows sent to the client per write
COLUMNS = (
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "seq", "leaf_hash", "entry",
)  # fmt: skip
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
# A spreadsheet runs a cell that starts with one of these as a formula; the
# token claims in a row (issuer, kid, subject, jti) are whatever was presented.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def with_entries(rows: list[Verification]) -> list[dict[str, Any]]:
    """The rows as the API shows them, their log entries read in one query."""
    entries = {
        id: (seq, bytes(leaf), bytes(body))
        for id, seq, leaf, body in LogEntry.objects.filter(id__in=[row.id for row in rows]).values_list(
            "id", "seq", "leaf_hash", "body"
        )
    }
    return [audit_row(row, *entries[row.id]) for row in rows]


def audit_row(row: Verification, seq: int | None, leaf_hash: bytes, body: bytes) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "created_at": timestamp(row.created_at),
        **{name: getattr(row, name) for name in COLUMNS[2:-3]},
        "seq": seq,
        "leaf_hash": base64.b64encode(leaf_hash).decode("ascii"),
        "entry": body.decode("utf-8"),
    }


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)  # reason codes never contain a space
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row.values()])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header row when there is no row


def _jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _shown(queryset: QuerySet) -> Iterator[dict[str, Any]]:
    """The rows in time order, with their entries, a chunk at a time."""
    rows = queryset.order_by("created_at", "id").iterator(chunk_size=EXPORT_CHUNK_ROWS)
    while chunk := list(islice(rows, EXPORT_CHUNK_ROWS)):
        yield from with_entries(chunk)


def export_chunks(queryset: QuerySet, fmt: str) -> Iterator[bytes]:
    """The rows of `queryset` in time order, encoded as they are read: the
    database is read EXPORT_CHUNK_ROWS rows at a time (a server-side cursor
    on PostgreSQL) and nothing holds more than one chunk."""
    rows = _shown(queryset)
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
    """One decision of the audit log (DESIGN §6)."""

    id = serializers.UUIDField(help_text="The decision's id: its log entry's")
    created_at = serializers.DateTimeField(help_text="Always YYYY-MM-DDTHH:MM:SS.ffffffZ, as in the entry")
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
    seq = serializers.IntegerField(
        allow_null=True, help_text="The entry's leaf index in the log; null until the integrator has placed it"
    )
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || entry), base64")
    entry = serializers.CharField(help_text="The entry's exact bytes (UTF-8 canonical JSON), as the log hashes them")

    class Meta:
        ref_name = "AuditRow"

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        return row  # built by with_entries


class IntegritySerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    size = serializers.IntegerField(
        help_text="How many leaves, from leaf 0, have bytes that match their leaf hashes and decision rows: every"
        " leaf the log holds when it is intact"
    )
    root = serializers.CharField(help_text="The root hash of the tree of those `size` leaves, base64")
    first_bad_seq = serializers.IntegerField(
        allow_null=True, help_text="The first leaf index whose entry, hash or tree does not hold; null when intact"
    )

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
            "Decisions in time order (created_at, then id), a page at a time by cursor (follow `next`), or with "
            "format=csv or format=jsonl every matching row, streamed as an attachment. `since` is inclusive, "
            "`until` exclusive. Each row carries its leaf index (`seq`), leaf hash and the entry's bytes. "
            "Regulator key, or a regulator's or the superuser's session."
        ),
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        params = filters.AuditFilter.parse(request)
        if params["format"] in filters.EXPORT_FORMATS:
            return export_response(filters.filter_audit(Verification.objects.all(), params), params["format"])
        queryset = filters.filter_audit(Verification.objects.all(), params, time_range=False)
        return paginated_response(
            request=request,
            view=self,
            queryset=queryset,
            serializer_class=AuditRowSerializer,
            prepare=with_entries,
            bounds=filters.audit_time_range(params),
        )


class AuditIntegrityApi(RegulatorReadApi):
    @extend_schema(
        operation_id="audit_integrity",
        tags=["audit"],
        responses={200: IntegritySerializer, **REGULATOR_ERRORS},
        summary="Check the audit log (regulators)",
        description=(
            "Recomputes every leaf hash from the stored bytes and the tree from the leaves, and checks every "
            "stored checkpoint's root and signature, as `manage.py verify_audit_log` does."
        ),
    )
    def get(self, request: Request) -> Response:
        filters.QueryParams.parse(request)
        return Response(IntegritySerializer(check_log().as_dict()).data)
