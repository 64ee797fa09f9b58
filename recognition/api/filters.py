"""Query strings of the read endpoints, and the rows each caller may read.

A query string is validated like a request body (DESIGN §10): only the
declared parameters, each at most once, every value checked; anything else is
a 400 {"error": "invalid_request", "detail": "<parameter>: <problem>"}. DRF's
own `format` (the renderer override) is tolerated where it is not declared.
"""

from typing import Any

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import ApiKey, KeyRole
from accounts.permissions import caller_role
from accounts.scope import admin_country
from core.instants import describe
from identity.models import AuthorityStatus
from identity.reasons import Reason
from recognition.api.pagination import MAX_PAGE_SIZE
from recognition.api.serializers import CountryCodeField, InstantField
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.snapshots import AgreementSnapshot

EXPORT_FORMATS = ("csv", "jsonl")
CREDENTIAL_TYPE_CODE = r"^[-a-zA-Z0-9_]+\Z"  # CredentialType.code, a SlugField


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
    # A filter, not a lookup: a code no credential type has selects no
    # agreement (an empty page), as an unknown country would if it had a
    # code; only a value that cannot be a code (the slug of the model's
    # field) is a 400.
    credential_type = serializers.RegexField(
        CREDENTIAL_TYPE_CODE,
        required=False,
        max_length=100,
        trim_whitespace=False,
        error_messages={"invalid": "not a credential type code (letters, digits, '-' and '_')"},
        help_text="A credential type code, e.g. merchant-identity; one no type has selects nothing.",
    )


def readable_agreements(request: Request) -> QuerySet:
    """DESIGN §10: everyone reads every agreement but drafts; a regulator
    (key or session) reads drafts too, a country administrator (session)
    the drafts of their own country as destination."""
    agreements = RecognitionAgreement.objects.all()
    if caller_role(request) == KeyRole.REGULATOR:
        return agreements
    country = None if isinstance(request.auth, ApiKey) else admin_country(request.user)
    if country:
        return agreements.visible_to_country(country)
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


def with_reason(queryset: QuerySet, code: str) -> QuerySet:
    if connections[queryset.db].vendor == "postgresql":
        # jsonb @>: the planner reads a rare code's rows through the GIN index
        # of migration 0008 (then sorts them by time) and walks the
        # (created_at, id) index for a common one (a page is found in a few
        # hundred rows).
        return queryset.filter(reasons__contains=[code])
    # SQLite (and others) have no JSON containment: match the quoted code in
    # the JSON text. Exact, because a code is a quoted [a-z_]+ token and the
    # list holds nothing else (LIKE escapes the underscores). No index serves
    # it: the rows are read in time order until a page is found (README).
    return queryset.annotate(reasons_text=Cast("reasons", TextField())).filter(reasons_text__contains=f'"{code}"')


def filter_audit(queryset: QuerySet, params: dict[str, Any], *, time_range: bool = True) -> QuerySet:
    """The rows `params` select. since (inclusive) and until (exclusive) are a
    range of created_at, the column after the value in every index a page
    reads; with time_range=False they are left to the caller (a page of
    JSON: AuditCursorPagination merges them with its cursor's bound)."""
    queryset = queryset.filter(
        **{name: params[name] for name in ("destination", "origin", "issuer", "decision") if name in params}
    )
    if "reason" in params:
        queryset = with_reason(queryset, params["reason"])
    if time_range and "since" in params:
        queryset = queryset.filter(created_at__gte=params["since"])
    if time_range and "until" in params:
        queryset = queryset.filter(created_at__lt=params["until"])
    return queryset


def audit_time_range(params: dict[str, Any]) -> dict[str, Any]:
    """since and until, for AuditCursorPagination."""
    return {"since": params.get("since"), "until": params.get("until")}
