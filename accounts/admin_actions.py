"""Admin actions that change state, confirmed first (DESIGN §7).

An action posted from a list changes nothing: it answers a confirmation page
listing the selected rows, each with its current status and what will happen
to it (a change, a proposal needing a second administrator, or a refusal and
why), and asks for a reason. Only the confirmed POST (CSRF-checked like every
admin POST) runs the services, after checking again who may change each row.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Proposal
from accounts.proposals import needs_second_person
from accounts.scope import country_code, scope_of

CONFIRMED = "confirmed"  # the POST field that only the confirmation page sends
REASON_MAX_LENGTH = 500  # a sentence or two, kept whole in history and the log


def manage_action(description: str, *, widening: bool = False, to: str = "") -> Callable[[Callable], Callable]:
    """An admin action that changes state, offered to those who may manage.

    `to` is the status the rows move to, if the action moves a status;
    `widening` says the action widens trust, so that a country
    administrator's use of it becomes a proposal (accounts.proposals).
    """

    def decorate(function: Callable) -> Callable:
        function.widening = widening
        function.to_status = to
        return admin.action(description=description, permissions=["manage"])(function)

    return decorate


def reason_field(
    help_text: str = "Kept in history; a change that needs approval is proposed with it.",
) -> forms.CharField:
    """The required "Reason for this change" of every form that changes trust."""
    return forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=help_text,
    )


class ReasonForm(forms.Form):
    reason = reason_field("Kept in each row's history, or given with the proposal where one is needed.")


@dataclass(frozen=True)
class RowPlan:
    """What the confirmed action will do to one selected row."""

    obj: models.Model
    current: str  # its status now, as shown to people ("" if it has none)
    change: str  # "Active → Suspended", or what the action does
    note: str = ""  # "final: cannot be undone", "needs approval by ..."
    refusal: str = ""  # why nothing will happen to it

    @property
    def proposal(self) -> bool:
        return self.note.startswith("needs approval")


class ConfirmedActionsMixin:
    """For CountryScopedAdmin: `confirm_and_run`, the one way its actions run."""

    transitions: dict[str, set[str]] = {}  # the status moves the services allow

    def confirm_and_run(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        service: Callable[..., Any],
        done: str,
        *,
        takes_reason: bool = True,
        report: Callable[[HttpRequest, models.Model, Any], None] | None = None,
    ) -> HttpResponse | None:
        """The confirmation page, or, once confirmed (with a reason if the
        service records one), `service` called on each selected row the user
        manages: a refusal is reported and the other rows still proceed.
        `report` tells the user more about one result."""
        action = self._posted_action(request)
        confirmed = request.POST.get(CONFIRMED) == "yes"
        form = (ReasonForm if takes_reason else forms.Form)(request.POST if confirmed else None)
        if not (confirmed and form.is_valid()):
            rows = [self.plan_row(request, obj, action) for obj in queryset]
            return self._confirmation_page(request, action, rows, form)
        extra = {"reason": form.cleaned_data["reason"]} if takes_reason else {}
        for obj in queryset:
            if not self.can_manage(request, obj):
                messages.error(request, f"{self.row_name(obj)}: not yours to change")
                continue
            try:
                result = service(**{self.service_target: obj, "user": request.user, **extra})
            except ValidationError as exc:
                messages.error(request, f"{self.row_name(obj)}: {'; '.join(exc.messages)}")
                continue
            self.report_result(request, obj, result, done)
            if report is not None:
                report(request, obj, result)
        return None

    def row_name(self, obj: models.Model) -> str:
        """How a message names a row: "recognition agreement CN recognizes … (#8, active)"."""
        return f"{self.model._meta.verbose_name} {obj}"

    def report_result(self, request: HttpRequest, obj: models.Model, result: Any, done: str) -> None:
        if isinstance(result, Proposal):
            messages.warning(request, proposed_message(result))
            return
        changed = result if isinstance(result, type(obj)) else obj  # named as it is now
        messages.success(request, f"{done} {self.row_name(changed)}.")

    def plan_row(self, request: HttpRequest, obj: models.Model, action: Callable) -> RowPlan:
        """What the action will do to `obj`, as the confirmation page says it."""
        current, change, note = self.describe_change(obj, action)
        if not self.can_manage(request, obj):
            return RowPlan(obj, current, change, refusal="not yours to change")
        to = getattr(action, "to_status", "")
        status = getattr(obj, "status", None)
        if to and status is not None and to not in self.transitions.get(status, set()):
            refusal = f"already {current}" if to == status else f"cannot go from {current} to {status_label(obj, to)}"
            return RowPlan(obj, current, change, refusal=refusal)
        if getattr(action, "widening", False) and needs_second_person(request.user):
            note = (
                f"needs approval by a second administrator of {scope_of(request.user).country}: it becomes a proposal"
            )
        return RowPlan(obj, current, change, note=note)

    def describe_change(self, obj: models.Model, action: Callable) -> tuple[str, str, str]:
        """(current status, change, note) of `obj` under a status action."""
        to = getattr(action, "to_status", "")
        status = getattr(obj, "status", None)
        if not to or status is None:
            return "", str(action.short_description), ""
        current = status_label(obj, status)
        change = f"{current} → {status_label(obj, to)}"
        # A move is undone only by a move back (agreements.AGREEMENT_TRANSITIONS and the like).
        note = "" if status in self.transitions.get(to, set()) else "final: cannot be undone"
        return current, change, note

    def _posted_action(self, request: HttpRequest) -> Callable:
        name = request.POST.get("action", "")
        return self.get_actions(request)[name][0]

    def _confirmation_page(
        self, request: HttpRequest, action: Callable, rows: list[RowPlan], form: ReasonForm
    ) -> TemplateResponse:
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Confirm: {action.short_description}",
            "subtitle": None,
            "opts": opts,
            "action_name": request.POST.get("action", ""),
            "action_description": action.short_description,
            "rows": rows,
            "runnable": [row for row in rows if not row.refusal],
            "form": form,
            "confirmed_field": CONFIRMED,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": request.get_full_path(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/confirm_action.html", context)


def status_label(obj: models.Model, status: str) -> str:
    """The human label of a status value of `obj`'s model ("Suspended")."""
    choices = dict(type(obj)._meta.get_field("status").flatchoices)
    return str(choices.get(status, status))


def proposal_url(proposal: Proposal) -> str:
    return reverse("admin:accounts_proposal_change", args=[proposal.pk])


def proposed_message(proposal: Proposal) -> str:
    """What the proposer is told: the change awaits a second administrator."""
    return format_html(
        'Proposed: {} — it awaits a second {} administrator (<a href="{}">proposal #{}</a>).',
        proposal.summary,
        country_code(proposal.country),
        proposal_url(proposal),
        proposal.pk,
    )
