"""Admin of recognition agreements and witnesses (DESIGN §7, §11); the audit
log's in admin_audit.py, the authority page's agreements in admin_authorities.py.

A country administrator manages the agreements in which their country is the
destination: creates them (recognizing a foreign authority), edits their terms
through `agreement_update_terms`, and moves them through their statuses with
the actions. Scoping rules live in accounts/scope.py and accounts/admin_mixins.py.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin_actions import RowPlan, reason_field
from accounts.admin_display import country_filter, display_instant
from accounts.admin_mixins import CountryScopedAdmin, ServiceForm, manage_action
from accounts.models import Role
from accounts.scope import Scope
from recognition import admin_audit, admin_authorities  # noqa: F401 (each registers its admin: the audit log, authorities)
from recognition.admin_lists import AgreementColumns, CredentialTypeFilter, InForceFilter
from recognition.log.witnesses import witness_status
from recognition.models import AgreementStatus, RecognitionAgreement, Witness, WitnessEvent
from recognition.services import agreements, witnesses
from recognition.services.feasibility import problems_now, warning

TERMS = ("min_assurance", "valid_from", "valid_until", "legal_basis", "reference_url", "notes")


class HttpsURLField(forms.URLField):
    """A reference URL typed without a scheme is an https one (Django 6 default)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"assume_scheme": "https", **kwargs})


class AgreementAddForm(ServiceForm):
    class Meta:
        model = RecognitionAgreement
        fields = ["destination", "authority", "credential_types", *TERMS]
        field_classes = {"reference_url": HttpsURLField}

    def submit(self) -> RecognitionAgreement:
        data = self.cleaned_data
        self.require_owned(data["destination"])
        return agreements.agreement_create(
            destination=data["destination"],
            authority=data["authority"],
            credential_types=data["credential_types"],
            user=self.acting_user,
            **{name: data[name] for name in TERMS},
        )


class AgreementTermsForm(ServiceForm):
    """The change form: terms only; destination, authority and status are
    read-only (status moves by actions)."""

    reason = reason_field()

    class Meta:
        model = RecognitionAgreement
        fields = ["credential_types", *TERMS]
        field_classes = {"reference_url": HttpsURLField}

    def submit(self) -> RecognitionAgreement:
        data = self.cleaned_data
        self.require_owned(self.instance.destination)
        return agreements.agreement_update_terms(
            agreement=self.instance,
            credential_types=data["credential_types"],
            user=self.acting_user,
            reason=data["reason"],
            **{name: self.submitted(name) for name in TERMS if name in data},
        )


@admin.register(RecognitionAgreement)
class RecognitionAgreementAdmin(AgreementColumns, CountryScopedAdmin):
    country_lookup = "destination"
    country_field = "destination"
    service_target = "agreement"
    transitions = agreements.AGREEMENT_TRANSITIONS
    form = AgreementTermsForm
    add_form = AgreementAddForm
    add_fieldsets = (
        (None, {"fields": ("destination", "authority", "credential_types", "min_assurance")}),
        (
            "Validity and legal basis",
            {"fields": ("valid_from", "valid_until", "legal_basis", "reference_url", "notes")},
        ),
    )
    fieldsets = (
        (None, {"fields": ("destination", "origin", "authority", "status", "reciprocal")}),
        (
            "Terms",
            {"fields": ("credential_types", "min_assurance", "valid_from", "valid_until", "legal_basis")},
        ),
        ("Feasibility", {"fields": ("can_it_succeed",)}),
        ("Notes", {"fields": ("reference_url", "notes", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "destination", "origin", "authority", "status", "reciprocal", "created_at", "updated_at", "can_it_succeed",
    )  # fmt: skip
    filter_horizontal = ("credential_types",)
    list_display = (
        "id", "in_force", "destination_country", "origin_country", "authority_name", "credential_type_names",
        "minimum_assurance", "status", "window", "reciprocal",
    )  # fmt: skip
    list_display_links = ("id", "authority_name")
    ordering = ("-created_at",)  # newest first, by no listed column: no header widened by sort marks
    list_filter = (
        "status", InForceFilter, country_filter("origin", "origin"), country_filter("destination", "destination"),
        CredentialTypeFilter, "min_assurance",
    )  # fmt: skip
    search_fields = ("authority__issuer", "authority__name", "legal_basis")
    actions = ["activate", "suspend", "terminate", "propose_reciprocal"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).select_related("authority").prefetch_related("credential_types")
        return queryset.with_reciprocal("has_reciprocal")

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = super().get_list_display(request)
        if self.scope(request).role == Role.COUNTRY_ADMIN:
            # Their own country is the destination of every row listed.
            return [column for column in columns if column != "destination_country"]
        return columns

    def readable(self, scope: Scope, obj: RecognitionAgreement) -> bool:
        # DESIGN §10: agreements are public, drafts excepted.
        return obj.status != AgreementStatus.DRAFT

    def readable_queryset(self, request: HttpRequest) -> QuerySet:
        scope = self.scope(request)
        if scope.reads_everything or not scope.country:
            return self.get_queryset(request)
        agreements = RecognitionAgreement.objects.visible_to_country(scope.country)
        return agreements.select_related("authority").with_reciprocal("has_reciprocal")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Destination and authority are chosen once, on creation.
        return () if obj is None else super().get_readonly_fields(request, obj)

    def editable(self, obj: RecognitionAgreement | None) -> bool:
        # Terminated is final (agreements.AGREEMENT_TRANSITIONS).
        return obj is None or obj.status != AgreementStatus.TERMINATED

    def authority_choices(self, request: HttpRequest, authorities: QuerySet) -> QuerySet:
        """An agreement recognizes a foreign authority, any foreign one."""
        scope = self.scope(request)
        if scope.is_superuser:
            return authorities
        if scope.country:
            return authorities.exclude(country=scope.country)
        return authorities.none()

    @admin.display(boolean=True, description="both ways", ordering="has_reciprocal")
    def reciprocal(self, agreement: RecognitionAgreement) -> bool:
        if hasattr(agreement, "has_reciprocal"):
            return agreement.has_reciprocal
        return RecognitionAgreement.objects.filter(
            destination=agreement.origin,
            origin=agreement.destination,
            status__in=[AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED],
        ).exists()

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A widening proposed instead of saved is judged when it is approved.
        if isinstance(obj, RecognitionAgreement) and (message := warning(problems_now(obj, timezone.now()))):
            messages.warning(request, message)

    @admin.display(description="Can it succeed?")
    def can_it_succeed(self, agreement: RecognitionAgreement) -> str:
        found = warning(problems_now(agreement, timezone.now()))
        return found or "Yes: nothing refuses every credential under it (a draft is judged as if it were active)."

    @manage_action("Activate the selected agreements", to=AgreementStatus.ACTIVE, widening=True)
    def activate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, agreements.agreement_activate, "Activated")

    @manage_action("Suspend the selected agreements", to=AgreementStatus.SUSPENDED)
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, agreements.agreement_suspend, "Suspended")

    @manage_action("Terminate the selected agreements (final)", to=AgreementStatus.TERMINATED)
    def terminate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, agreements.agreement_terminate, "Terminated")

    @manage_action("Propose the reciprocal agreement as a draft")
    def propose_reciprocal(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # Drafts recognize nothing and are the other country's to review: no
        # trust changes here, so there is no reason to record.
        return self.confirm_and_run(
            request,
            queryset,
            agreements.agreement_propose_reciprocal,
            "Proposed the reciprocal of",
            takes_reason=False,
            report=self.report_drafts,
        )

    def report_drafts(self, request: HttpRequest, agreement: RecognitionAgreement, drafts: list) -> None:
        listed = ", ".join(f"#{draft.pk} ({draft.authority})" for draft in drafts)
        # The drafts' destination is the other country: its administrators
        # review them, and this user cannot change them.
        messages.info(request, f"Drafts for {drafts[0].destination.code} to review: {listed}.")


class WitnessAddForm(ServiceForm):
    class Meta:
        model = Witness
        fields = ["name", "country", "url", "vkey"]

    def submit(self) -> Witness:
        data = self.cleaned_data
        return witnesses.witness_add(
            name=data["name"], country=data["country"], url=data["url"], vkey=data["vkey"], user=self.acting_user
        )

    def validate_unique(self) -> None:
        """The service names a duplicate itself."""


@admin.register(Witness)
class WitnessAdmin(CountryScopedAdmin):
    """Witnesses (DESIGN §11): the superuser registers and retires them;
    regulators view them and what they did; country administrators and
    other staff see nothing of them."""

    service_target = "witness"
    add_form = WitnessAddForm
    form = WitnessAddForm
    add_fieldsets = ((None, {"fields": ("name", "country", "url", "vkey")}),)
    fields = ("name", "country", "url", "vkey", "created_at", "retired_at", "split_view", "recent_events")
    readonly_fields = fields
    list_display = ("name", "country", "url", "active", "split_view", "last_cosigned", "last_refusal")
    list_filter = (("retired_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "url")
    actions = ["retire"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return Witness.objects.all() if self.scope(request).reads_everything else Witness.objects.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.scope(request).reads_everything

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.scope(request).reads_everything

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.scope(request).is_superuser

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.scope(request).is_superuser

    def can_manage(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.scope(request).is_superuser

    @admin.display(boolean=True, description="active")
    def active(self, witness: Witness) -> bool:
        return witness.active

    @admin.display(description="split view")
    def split_view(self, witness: Witness) -> str:
        event = witness_status(witness).split_view
        if event is None:
            return "-"
        return format_html(
            "<strong>SPLIT VIEW at size {} ({}): {}</strong>",
            event.size,
            display_instant(event.created_at),
            event.reason,
        )

    @admin.display(description="last cosigned")
    def last_cosigned(self, witness: Witness) -> str:
        cosigned = witness_status(witness).last_cosignature
        if cosigned is None:
            return "never"
        return format_html("size {} at {}", cosigned.checkpoint.size, display_instant(cosigned.created_at))

    @admin.display(description="last refusal")
    def last_refusal(self, witness: Witness) -> str:
        event = witness_status(witness).last_refusal
        if event is None:
            return "-"
        status = event.http_status or "no answer"
        return format_html("{} ({}) at {}: {}", event.outcome, status, display_instant(event.created_at), event.reason)

    @admin.display(description="recent events (last 20)")
    def recent_events(self, witness: Witness) -> str:
        events = WitnessEvent.objects.filter(witness=witness).order_by("-created_at", "-id")[:20]
        if not events:
            return "none: every push got a cosignature"
        return format_html_join(
            "\n",
            "<div>{} size {}: {} (HTTP {}) {}</div>",
            ((display_instant(e.created_at), e.size, e.outcome, e.http_status or "none", e.reason) for e in events),
        )

    @manage_action("Retire the selected witnesses (no more pushes; their cosignatures stop counting)")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # witness_retire records no reason: the retirement's time is its record.
        return self.confirm_and_run(request, queryset, witnesses.witness_retire, "Retired", takes_reason=False)

    def describe_change(self, witness: Witness, action: Any) -> tuple[str, str, str]:
        current = "retired" if witness.retired_at else "active"
        return current, f"{current} → retired", "final: cannot be undone"

    def plan_row(self, request: HttpRequest, witness: Witness, action: Any) -> RowPlan:
        plan = super().plan_row(request, witness, action)
        if witness.retired_at and not plan.refusal:
            return RowPlan(witness, plan.current, plan.change, refusal="retired already")
        return plan
