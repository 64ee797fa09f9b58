"""Admin of who may do what: country roles and API keys, the superuser's
business only (DESIGN §7); and the proposals to widen trust, decided by a
second administrator of the country (README, Four-eyes approval)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as UnusedLibraryApiKey
from simple_history.admin import SimpleHistoryAdmin

from accounts import proposals
from accounts.admin_actions import REASON_MAX_LENGTH, proposal_url
from accounts.admin_mixins import SuperuserOnly
from accounts.admin_proposals import admin_link, changes_table, decision_context, status_now, target_of, utc
from accounts.models import ApiKey, CountryRole, Proposal, ProposalStatus
from accounts.scope import country_code, scope_of
from accounts.services import api_key_create


@admin.register(CountryRole)
class CountryRoleAdmin(SuperuserOnly, admin.ModelAdmin):
    """Who administers which country: the superuser's business only."""

    list_display = ("user", "role", "country")
    list_filter = ("role", "country")
    search_fields = ("user__username",)


# The library's own APIKey model is not used (accounts.ApiKey adds the
# role): its admin, registered on import, would only confuse.
if admin.site.is_registered(UnusedLibraryApiKey):
    admin.site.unregister(UnusedLibraryApiKey)


@admin.register(ApiKey)
class ApiKeyAdmin(SuperuserOnly, APIKeyModelAdmin):
    """API keys of platforms and regulators: the superuser's business only.
    A key is created through `api_key_create`, like `create_api_key`; its
    secret is shown once, in the message after saving. Keys are revoked
    (final), never deleted: their name stays on the audit rows."""

    list_display = ("prefix", "name", "role", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("role", "revoked", "created")
    search_fields = ("name", "prefix")

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ("name", "role")
        return ("prefix", "name", "role", "created", "expiry_date", "revoked")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ()
        # The name is on every audit row of the key: it never changes.
        return ("prefix", "name", "role", "created", *(("expiry_date", "revoked") if obj.revoked else ()))

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any = None, change: bool = False) -> None:
        if change:
            super().save_model(request, obj, form, change)  # revocation or expiry only
            return
        created, secret = api_key_create(name=obj.name, role=obj.role)
        # The admin goes on with `obj` (its log entry and redirect).
        for name in ("id", "prefix", "hashed_key", "created", "revoked", "expiry_date"):
            setattr(obj, name, getattr(created, name))
        obj._state.adding, obj._state.db = False, created._state.db
        messages.warning(
            request,
            f"The API key of {created.name} ({created.role}) is: {secret} — store it now; it is not shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Kept in the proposal's history.",
    )

    def __init__(self, *args: Any, required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


@dataclass(frozen=True)
class Decision:
    """One button of a proposal's page and the service it calls."""

    verb: str  # "Approve"
    done: str  # "Approved"
    reason_required: bool
    service: Callable[..., Any]
    refusal: Callable[[Proposal, Any], str | None]  # why this viewer may not


def _withdraw_refusal(proposal: Proposal, user: Any) -> str | None:
    if proposal.status != ProposalStatus.PENDING or user.pk != proposal.proposed_by_id:
        return f"only {proposal.proposed_by}, who proposed #{proposal.pk}, may withdraw it while it is pending"
    return None


DECISIONS = {
    "approve": Decision("Approve", "Approved", False, proposals.approve, proposals.decide_refusal),
    "refuse": Decision("Refuse", "Refused", True, proposals.refuse, proposals.decide_refusal),
    "withdraw": Decision("Withdraw", "Withdrew", False, proposals.withdraw, _withdraw_refusal),
}


@admin.register(Proposal)
class ProposalAdmin(SimpleHistoryAdmin):
    """Proposals to widen trust (README, Four-eyes approval): a country's
    administrators see their country's, regulators and the superuser read
    all; another administrator of the country approves or refuses, the
    proposer may withdraw. Nobody edits or deletes one."""

    list_display = ("id", "country", "summary", "proposed_by", "proposed_at_utc", "status_now", "decided_by")
    list_display_links = ("id", "summary")
    list_filter = ("status", ("country", admin.AllValuesFieldListFilter))
    list_select_related = ("proposed_by", "decided_by")
    search_fields = ("summary", "reason")
    fields = (
        "summary",
        "target",
        "what_will_change",
        "reason",
        "country",
        "status_now",
        "proposed_by",
        "proposed_at_utc",
        "decided_by",
        "decided_at_utc",
        "decision_reason",
        "result",
    )
    readonly_fields = fields
    change_form_template = "admin/accounts/proposal/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = scope_of(request.user)
        if scope.reads_everything:
            return queryset
        return queryset.filter(country=scope.country) if scope.country else queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return scope_of(request.user).role is not None

    def has_view_permission(self, request: HttpRequest, obj: Proposal | None = None) -> bool:
        scope = scope_of(request.user)
        if scope.reads_everything:
            return True
        return bool(scope.country) and (obj is None or country_code(obj.country) == scope.country)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals come from the widening services

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided by the buttons of its page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing is deleted

    @admin.display(description="proposed at", ordering="proposed_at")
    def proposed_at_utc(self, proposal: Proposal) -> str:
        return utc(proposal.proposed_at)

    @admin.display(description="decided at", ordering="decided_at")
    def decided_at_utc(self, proposal: Proposal) -> str:
        return utc(proposal.decided_at)

    @admin.display(description="status", ordering="status")
    def status_now(self, proposal: Proposal) -> str:
        return status_now(proposal)

    @admin.display(description="target")
    def target(self, proposal: Proposal) -> str:
        target = target_of(proposal)
        return f"{proposal.target_model} #{proposal.target_id}" if target is None else admin_link(target)

    @admin.display(description="what will change")
    def what_will_change(self, proposal: Proposal) -> str:
        return changes_table(proposal)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        self._visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # A revert would save an old version directly, bypassing the proposal services.
        if request.method != "GET":
            raise PermissionDenied
        self._visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def _visible(self, request: HttpRequest, object_id: str) -> Proposal:
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None or not self.has_view_permission(request, proposal):
            raise Http404("no such proposal among those you may see")
        return proposal

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        proposal = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {})}
        if proposal is not None and self.has_view_permission(request, proposal):
            context.update(decision_context(proposal, request.user))
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.decide_view)
        decide = [
            path(f"<path:object_id>/{name}/", view, {"decision": name}, name=f"accounts_proposal_{name}")
            for name in DECISIONS
        ]
        return [*decide, *super().get_urls()]

    def decide_view(self, request: HttpRequest, object_id: str, decision: str) -> HttpResponse:
        """A decision's confirmation page; its POST calls the service, which
        checks again who may decide (a refusal is shown, never a 500)."""
        proposal = self._visible(request, object_id)
        action = DECISIONS[decision]
        refusal = action.refusal(proposal, request.user)
        if refusal:
            messages.error(request, refusal)
            return HttpResponseRedirect(proposal_url(proposal))
        form = DecisionForm(request.POST if request.method == "POST" else None, required=action.reason_required)
        if request.method == "POST" and form.is_valid():
            try:
                action.service(proposal=proposal, user=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                messages.success(request, f"{action.done} proposal #{proposal.pk}: {proposal.summary}.")
            return HttpResponseRedirect(proposal_url(proposal))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.verb} proposal #{proposal.pk}?",
            "subtitle": None,
            "opts": self.model._meta,
            "proposal": proposal,
            "decision": action,
            "changes": changes_table(proposal),
            "status_now": status_now(proposal),
            "form": form,
            "proposal_url": proposal_url(proposal),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/accounts/proposal/decide.html", context)
