"""Query strings of the read endpoints, and the rows each caller may read.

A query string is validated like a request body (DESIGN §10): only the
declared parameters, each at most once, every value checked; anything else is
a 400 {"error": "invalid_request", "detail": "<parameter>: <problem>"}. DRF's
own `format` (the renderer override) is tolerated where it is not declared.
"""

from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import serializers
from rest_framework.pagination import Cursor
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import ApiKey, KeyRole
from accounts.permissions import caller_role
from accounts.scope import admin_country
from core.instants import describe
from identity.models import AuthorityStatus, CredentialType
from identity.reasons import Reason
from recognition.api.pagination import MAX_PAGE_SIZE
from recognition.api.serializers import CountryCodeField, InstantField
from recognition.models import AgreementStatus, RecognitionAgreement, Verification
from recognition.snapshots import AgreementSnapshot

EXPORT_FORMATS = ("csv", "jsonl")


class QueryParams(serializers.Serializer):
    """The declared query parameters and no other, each given at most once."""

    @classmethod
    def parse(cls, request: Request) -> dict[str, Any]:
        query = request.query_params
        declared = cls().fields
        errors: dict[str, list[str]] = {}
        unknown = sorted(name for name in query if name not in declared and name != api_settings.URL_FORMAT_OVERRIDE)
        if unknown:
            accepted = ", ".join(declared) or "none"
            errors[api_settings.NON_FIELD_ERRORS_KEY] = [
                f"unknown query parameters: {', '.join(name[:40] for name in unknown)[:200]} (accepted: {accepted})"
            ]
        for name in query:
            if name in declared and len(query.getlist(name)) > 1:
                errors[name] = ["given more than once"]
        serializer = cls(data={name: query[name] for name in query if name in declared})
        if not serializer.is_valid():
            errors.update(serializer.errors)
        if errors:
            raise serializers.ValidationError(errors)
        return serializer.validated_data


class PageParams(QueryParams):
    page = serializers.IntegerField(required=False, min_value=1, help_text="Page number, from 1.")
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Rows per page (default 50, at most {MAX_PAGE_SIZE}).",
    )


# Authorities ---------------------------------------------------------------


class AuthorityFilter(PageParams):
    country = CountryCodeField(required=False, help_text="ISO 3166-1 alpha-2 code, upper case.")
    status = serializers.ChoiceField(choices=AuthorityStatus.choices, required=False)


def filter_authorities(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    return queryset.filter(**{name: params[name] for name in ("country", "status") if name in params})


# Agreements ----------------------------------------------------------------


class AgreementFilter(PageParams):
    destination = CountryCodeField(required=False, help_text="The recognizing country (upper case).")
    origin = CountryCodeField(required=False, help_text="The recognized authority's country (upper case).")
    status = serializers.ChoiceField(choices=AgreementStatus.choices, required=False)
    credential_type = serializers.CharField(
        required=False, max_length=100, help_text="A credential type code, e.g. merchant-identity."
    )

    def validate_credential_type(self, value: str) -> str:
        if not CredentialType.objects.filter(code=value).exists():
            raise serializers.ValidationError(f"no credential type {value[:100]!r}")
        return value


def readable_agreements(request: Request) -> QuerySet:
    """DESIGN §10: everyone reads every agreement but drafts; a regulator
    (key or session) reads drafts too, a country administrator (session)
    the drafts of their own country as destination."""
    agreements = RecognitionAgreement.objects.all()
    if caller_role(request) == KeyRole.REGULATOR:
        return agreements
    country = None if isinstance(request.auth, ApiKey) else admin_country(request.user)
    if country:
        return agreements.filter(~Q(status=AgreementStatus.DRAFT) | Q(destination=country))
    return agreements.visible_publicly()


def with_agreement_facts(queryset: QuerySet) -> QuerySet:
    """What an agreement's answer shows beside its own columns: whether it is
    reciprocal (and, once read, `mark_in_force`)."""
    return queryset.select_related("authority").prefetch_related("credential_types").with_reciprocal()


def mark_in_force(agreements: list[RecognitionAgreement]) -> list[RecognitionAgreement]:
    """Set `in_force` (now) on each agreement read, by the one rule."""
    now = timezone.now()
    for agreement in agreements:
        agreement.in_force = AgreementSnapshot.of(agreement).in_force(now)
    return agreements


def filter_agreements(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    queryset = queryset.filter(**{name: params[name] for name in ("destination", "origin", "status") if name in params})
    if "credential_type" in params:
        queryset = queryset.filter(credential_types__code=params["credential_type"])
    return queryset


# The audit log -------------------------------------------------------------


class AuditFilter(QueryParams):
    destination = CountryCodeField(required=False, help_text="Where the credential was presented (upper case).")
    origin = CountryCodeField(
        required=False, help_text="The issuer's country, recorded only from a verified signature (never as declared)."
    )
    issuer = serializers.CharField(
        required=False, max_length=500, trim_whitespace=False, help_text="The `iss` the token claimed, exactly."
    )
    decision = serializers.ChoiceField(choices=["accepted", "rejected"], required=False)
    reason = serializers.ChoiceField(
        choices=Reason.choices, required=False, help_text="Rows whose reasons include this code."
    )
    since = InstantField(required=False, help_text=f"created_at at or after this instant: {describe()}.")
    until = InstantField(required=False, help_text=f"created_at before this instant: {describe()}.")
    format = serializers.ChoiceField(
        choices=["json", *EXPORT_FORMATS],
        default="json",
        help_text="json: one page of rows; csv or jsonl: every matching row, streamed as a file.",
    )
    cursor = serializers.CharField(required=False, help_text="The cursor of a `next` or `previous` link.")
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Rows per page (default 50, at most {MAX_PAGE_SIZE}).",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise serializers.ValidationError({"until": ["must be after since"]})
        if data["format"] in EXPORT_FORMATS:
            paging = sorted({"cursor", "page_size"} & set(data))
            if paging:
                raise serializers.ValidationError(
                    {name: ["applies to format=json only; an export streams every matching row"] for name in paging}
                )
        return data


def _with_reason(queryset: QuerySet, code: str) -> QuerySet:
    if connections[queryset.db].vendor == "postgresql":
        # jsonb @>: the planner reads a rare code's rows through the GIN index
        # of migration 0008 (then sorts them by seq) and walks the seq index
        # for a common one (a page is found in a few hundred rows).
        return queryset.filter(reasons__contains=[code])
    # SQLite (and others) have no JSON containment: match the quoted code in
    # the JSON text. Exact, because a code is a quoted [a-z_]+ token and the
    # list holds nothing else (LIKE escapes the underscores). No index serves
    # it: the rows are read in seq order until a page is found (README).
    return queryset.annotate(reasons_text=Cast("reasons", TextField())).filter(reasons_text__contains=f'"{code}"')


def _first_seq_at_or_after(queryset: QuerySet, instant: datetime) -> int | None:
    """The seq of the first row whose created_at is at or after `instant`:
    one probe of the (created_at, seq) index."""
    first = queryset.filter(created_at__gte=instant).order_by("created_at", "seq").values_list("seq", flat=True)[:1]
    return next(iter(first), None)


def _in_time_range(queryset: QuerySet, params: dict[str, Any], cursor: Cursor | None) -> QuerySet:
    """since (inclusive) and until (exclusive) on created_at, as seq bounds
    too. created_at never decreases along the chain (audit_append keeps it,
    check_chain verifies it), so the rows at or after `since` are exactly
    those from the first such row's seq on, and the rows before `until`
    those before the first row at or after it. The bounds let a page walk
    the seq index (or a filter's (column, seq) index) from the right place
    instead of reading every row before the range; the created_at
    conditions stay, so a log whose order was broken (check_chain says
    where) never shows a row outside the range."""
    if "since" not in params and "until" not in params:
        return queryset
    rows = Verification.objects.using(queryset.db)
    low = high = None
    if "since" in params:
        queryset = queryset.filter(created_at__gte=params["since"])
        low = _first_seq_at_or_after(rows, params["since"])
        if low is None:
            return queryset.none()
    if "until" in params:
        queryset = queryset.filter(created_at__lt=params["until"])
        high = _first_seq_at_or_after(rows, params["until"])
    # The page's own bound (the pagination adds it after these) folded in:
    # SQLite starts an index range at the first of two bounds on a column,
    # not at the tighter one, and would walk from `since` to the cursor.
    if cursor is not None and cursor.position is not None:
        position = int(cursor.position)
        if cursor.reverse:
            high = position if high is None else min(high, position)
        else:
            low = position + 1 if low is None else max(low, position + 1)
    if low is not None:
        queryset = queryset.filter(seq__gte=low)
    if high is not None:
        queryset = queryset.filter(seq__lt=high)
    return queryset


def filter_audit(queryset: QuerySet, params: dict[str, Any], cursor: Cursor | None = None) -> QuerySet:
    """The rows `params` select; `cursor`, the page's (AuditCursorPagination),
    only tightens the seq bounds of a time range."""
    queryset = queryset.filter(
        **{name: params[name] for name in ("destination", "origin", "issuer", "decision") if name in params}
    )
    if "reason" in params:
        queryset = _with_reason(queryset, params["reason"])
    return _in_time_range(queryset, params, cursor)
