"""The audit log's admin (DESIGN §6, §7): decisions, read-only for everyone.

A country administrator sees the decisions taken for their border
(destination = their country) and the decisions about their own
authorities' credentials wherever they were presented (origin = their
country); regulators and the superuser see every row. Rows filter by what
they are about, by reason (reasons are a JSON list of codes), and export as
the API's CSV, streamed, scoped to what the user may see.
"""

import base64
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from rest_framework.renderers import JSONRenderer

from accounts.admin_display import country_column, country_filter, country_label, display_instant
from accounts.admin_rows import HonestRefusalsMixin
from accounts.scope import scope_of
from identity.reasons import Reason, reason_label
from recognition.api.audit import export_response
from recognition.api.filters import with_reason
from recognition.log.disputes import evidence
from recognition.log.proofs import LogRefusal
from recognition.models import LogEntry, Verification

OUR_CREDENTIALS_ABROAD = "ours_abroad"
OUR_BORDER = "our_border"


class AboutFilter(admin.SimpleListFilter):
    """For a country administrator: the decisions about their country's
    credentials presented abroad, or those taken for their border."""

    title = "about"
    parameter_name = "about"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        country = scope_of(request.user).country
        if not country:
            return []  # regulators see every row: nothing to tell apart
        return [
            (OUR_CREDENTIALS_ABROAD, f"our credentials abroad (origin {country})"),
            (OUR_BORDER, f"decisions for our border (destination {country})"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        country = scope_of(request.user).country
        if not country or self.value() not in (OUR_CREDENTIALS_ABROAD, OUR_BORDER):
            return queryset
        if self.value() == OUR_BORDER:
            return queryset.filter(destination=country)
        return queryset.filter(origin=country).exclude(destination=country)


class ReasonFilter(admin.SimpleListFilter):
    """Rows whose reasons include a code: the audit API's filter, which works
    on SQLite and PostgreSQL alike."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(Reason.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in Reason.values:
            return with_reason(queryset, self.value())
        return queryset


@admin.register(Verification)
class VerificationAdmin(HonestRefusalsMixin, admin.ModelAdmin):
    """Read-only for everyone, the superuser included: rows are append-only.
    Regulators and the superuser download a decision's dispute evidence from
    its page (the document of GET audit/log/entries/{id}/evidence); a country
    administrator, who has no API key's view of the log, does not."""

    list_display = ("when", "decision", "reason_labels", "destination_country", "origin_country", "client", "issuer")
    list_display_links = ("when",)
    list_filter = (
        AboutFilter, "decision", ReasonFilter, country_filter("destination", "destination"),
        country_filter("origin", "origin"), "client",
    )  # fmt: skip
    search_fields = ("issuer", "subject", "jti", "=token_sha256")
    search_help_text = "Search by issuer, subject (registration number), jti, or the exact SHA-256 of a token."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False  # no second COUNT(*) over a large log
    fieldsets = (
        (None, {"fields": ("created_at", "client", "decision", "reason_list")}),
        ("Border pair", {"fields": ("destination", "origin", "declared_origin")}),
        ("What was presented (claimed; a fact only if accepted)", {"fields": ("issuer", "kid", "subject", "jti")}),
        ("Agreement applied", {"fields": ("agreement", "agreement_version")}),
        ("Transparency log", {"fields": ("id", "token_sha256", "leaf_index", "leaf_hash")}),
    )
    readonly_fields = ("reason_list", "leaf_index", "leaf_hash", "evidence")

    def get_fieldsets(self, request: HttpRequest, obj: Verification | None = None) -> Any:
        if not scope_of(request.user).reads_everything:
            return self.fieldsets
        *others, (name, options) = self.fieldsets
        return (*others, (name, {"fields": (*options["fields"], "evidence")}))

    def describe_out_of_scope(self, obj: Verification) -> str:
        about = f" about a credential of {country_label(obj.origin)}" if obj.origin else ""
        return f"a decision for {country_label(obj.destination)}{about}, not among those you may see"

    # Columns -----------------------------------------------------------------

    @admin.display(description="created at", ordering="created_at")
    def when(self, row: Verification) -> SafeString | str:
        return display_instant(row.created_at)

    destination_country = country_column("destination", "destination")
    origin_country = country_column("origin", "origin")

    @admin.display(description="reasons")
    def reason_labels(self, row: Verification) -> SafeString | str:
        if not row.reasons:
            return "-"
        return format_html_join(
            "; ", '<span title="{}">{}</span>', ((code, reason_label(code)) for code in row.reasons)
        )

    @admin.display(description="reasons")
    def reason_list(self, row: Verification) -> SafeString | str:
        if not row.reasons:
            return "none: accepted"
        return format_html_join("", "<div>{} (<code>{}</code>)</div>", ((reason_label(c), c) for c in row.reasons))

    @admin.display(description="dispute evidence")
    def evidence(self, row: Verification) -> str:
        url = reverse("admin:recognition_verification_evidence", args=[row.pk])
        return format_html('<a href="{}">Download evidence</a> (check it with manage.py verify_evidence)', url)

    @admin.display(description="leaf index")
    def leaf_index(self, row: Verification) -> str:
        seq = LogEntry.objects.filter(id=row.id).values_list("seq", flat=True).first()
        return "not yet in the log's tree (the integrator places it within seconds)" if seq is None else str(seq)

    @admin.display(description="leaf hash (base64)")
    def leaf_hash(self, row: Verification) -> str:
        found = LogEntry.objects.filter(id=row.id).values_list("leaf_hash", flat=True).first()
        return base64.b64encode(bytes(found)).decode("ascii") if found is not None else "-"

    # Downloads -----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        export = path("export.csv", self.admin_site.admin_view(self.export_csv), name="recognition_verification_export")
        download = path(
            "<path:object_id>/evidence/",
            self.admin_site.admin_view(self.evidence_download),
            name="recognition_verification_evidence",
        )
        return [export, download, *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """The rows the list shows (its filters, search and dates), every one
        of them, as the audit API's CSV: same columns, same neutralized
        cells, streamed a chunk at a time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            rows = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            self.message_user(request, "Those filters do not apply to the audit log.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:recognition_verification_changelist"))
        return export_response(rows, "csv")

    def evidence_download(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The evidence document as a file: for the rows this user may see,
        and only for regulators and the superuser."""
        row = self.get_object(request, object_id)
        if row is None:
            raise Http404("no such decision among those you may see")
        if not scope_of(request.user).reads_everything:
            raise PermissionDenied("dispute evidence is for regulators")
        try:
            document = evidence(row.pk)
        except LogRefusal as refusal:
            self.message_user(request, f"No evidence yet: {refusal.detail}", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:recognition_verification_change", args=[row.pk]))
        response = HttpResponse(JSONRenderer().render(document), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="evidence-{row.pk}.json"'
        response["Cache-Control"] = "private, no-store"
        return response

    # Who sees what ---------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = scope_of(request.user)
        if scope.reads_everything:
            return queryset
        if scope.country:
            return queryset.filter(Q(destination=scope.country) | Q(origin=scope.country))
        return queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = scope_of(request.user)
        return scope.reads_everything or bool(scope.country)

    def has_view_permission(self, request: HttpRequest, obj: Verification | None = None) -> bool:
        scope = scope_of(request.user)
        if scope.reads_everything:
            return True
        return bool(scope.country) and (obj is None or scope.country in (obj.destination, obj.origin))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by decisions only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only
