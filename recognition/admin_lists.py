"""What the agreements' admin list and pages show (DESIGN §3, §5): whether an
agreement is in force now (by the one rule, `AgreementSnapshot.in_force`),
its countries, authority and credential types by name, its minimum
assurance and window, and the filters a country administrator asks with."""

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.admin_display import country_column, country_label, display_instant
from identity.models import Authority, CredentialType
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.snapshots import AgreementSnapshot


def in_force_now(agreement: RecognitionAgreement, now: datetime) -> bool:
    return AgreementSnapshot.of(agreement).in_force(now)


def in_force_text(agreement: RecognitionAgreement, now: datetime) -> SafeString | str:
    """Yes, or why not: "No, ended 2025-01-01 00:00:00 UTC"."""
    if in_force_now(agreement, now):
        return "Yes"
    if agreement.status != AgreementStatus.ACTIVE:
        return f"No, {agreement.get_status_display().lower()}"
    # Active and not in force: outside its window.
    if agreement.valid_from > now:
        return format_html("No, starts {}", display_instant(agreement.valid_from))
    return format_html("No, ended {}", display_instant(agreement.valid_until))


def window_html(agreement: RecognitionAgreement) -> SafeString:
    # One bound a line: the list stays narrow enough not to clip a column.
    return format_html(
        '<span class="registry-window">from {}</span><span class="registry-window">until {}</span>',
        display_instant(agreement.valid_from),
        display_instant(agreement.valid_until, "open"),
    )


def type_names(agreement: RecognitionAgreement) -> str:
    return ", ".join(credential_type.name for credential_type in agreement.credential_types.all()) or "-"


class InForceFilter(admin.SimpleListFilter):
    """In force now or not, decided row by row by the one rule: agreements
    are a few per country pair, so the rule runs over them in Python."""

    title = "in force now"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in ("yes", "no"):
            return queryset
        now = timezone.now()
        wanted = self.value() == "yes"
        ids = [row.pk for row in queryset.prefetch_related("credential_types") if in_force_now(row, now) == wanted]
        return queryset.filter(pk__in=ids)


class CredentialTypeFilter(admin.SimpleListFilter):
    title = "credential type"
    parameter_name = "credential_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(CredentialType.objects.order_by("name").values_list("code", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(credential_types__code=self.value()).distinct() if self.value() else queryset


class AgreementColumns:
    """The columns of the agreements list, and credential types offered by
    name in its forms (a type's str() stays its code: the transparency log's
    change entries are written with it)."""

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name == "credential_types":
            field.label_from_instance = lambda credential_type: f"{credential_type.name} ({credential_type.code})"
        return field

    @admin.display(description="in force")
    def in_force(self, agreement: RecognitionAgreement) -> SafeString | str:
        return in_force_text(agreement, timezone.now())

    origin_country = country_column("origin", "origin")
    destination_country = country_column("destination", "destination")

    @admin.display(description="recognized authority", ordering="authority__name")
    def authority_name(self, agreement: RecognitionAgreement) -> str:
        return agreement.authority.name

    @admin.display(description="credential types")
    def credential_type_names(self, agreement: RecognitionAgreement) -> str:
        return type_names(agreement)

    @admin.display(description="minimum assurance", ordering="min_assurance")
    def minimum_assurance(self, agreement: RecognitionAgreement) -> str:
        return agreement.get_min_assurance_display()

    @admin.display(description="window", ordering="valid_from")
    def window(self, agreement: RecognitionAgreement) -> SafeString:
        return window_html(agreement)


def recognitions_table(authority: Authority, agreements: QuerySet) -> SafeString | str:
    """The agreements recognizing an authority, with links, for its page."""
    rows = list(agreements.filter(authority=authority).prefetch_related("credential_types").order_by("destination"))
    if not rows:
        return "No country recognizes this authority."
    now = timezone.now()
    cells = format_html_join(
        "",
        '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:recognition_recognitionagreement_change", args=[row.pk]),
                row.pk,
                country_label(row.destination),
                row.get_status_display(),
                in_force_text(row, now),
                type_names(row),
                row.get_min_assurance_display(),
                window_html(row),
            )
            for row in rows
        ),
    )
    return format_html(
        '<table class="registry-table"><thead><tr><th>agreement</th><th>recognized in</th><th>status</th>'
        "<th>in force</th><th>credential types</th><th>minimum assurance</th><th>window</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        cells,
    )
