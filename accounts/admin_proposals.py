"""What the proposals admin shows of a proposal: its target, what will change
(before → after, read against the target as it is now), the decision the
viewer may take, and the notice on a target's page. The target models are
known by their labels only (dependencies run one way)."""

from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from accounts.admin_actions import proposal_url
from accounts.models import Proposal, ProposalStatus
from accounts.proposals import decide_refusal, is_stale
from accounts.scope import country_code, scope_of
from core.instants import utc_text

NOTHING = "-"


def utc(value: datetime | None) -> str:
    return NOTHING if value is None else utc_text(value)


def target_of(proposal: Proposal) -> models.Model | None:
    try:
        model = apps.get_model(proposal.target_model)
    except (LookupError, ValueError):
        return None
    return model._default_manager.filter(pk=proposal.target_id).first()


def admin_link(obj: models.Model) -> str:
    """A link to `obj`'s admin page, or its name where it has none."""
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


def status_now(proposal: Proposal) -> str:
    """The status, with a pending proposal whose target changed since shown
    as the stale one it has become (approving it would be refused)."""
    if proposal.status == ProposalStatus.PENDING and is_stale(proposal):
        return "Stale (the target changed since it was proposed)"
    return proposal.get_status_display()


def _shown(target: models.Model | None, name: str, value: Any) -> str:
    """A value as people read it: a choice's label, an instant in UTC, a list joined."""
    field = _field(target, name)
    if isinstance(value, str) and isinstance(field, models.DateTimeField):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(str(item) for item in value)) or NOTHING
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return NOTHING if value in (None, "") else str(value)


def _field(target: models.Model | None, name: str) -> models.Field | None:
    if target is None:
        return None
    try:
        return target._meta.get_field(name)
    except LookupError:
        return None


def _current(target: models.Model | None, name: str) -> Any:
    if target is None:
        return None
    if name == "credential_types":
        return list(target.credential_types.values_list("code", flat=True))
    return getattr(target, name, None)


def changes(proposal: Proposal) -> list[tuple[str, str, str]]:
    """(what, now, after approval) for each value the proposal changes."""
    target = target_of(proposal)
    payload = proposal.payload if isinstance(proposal.payload, dict) else {}
    rows = [_new_key(key) for key in payload.get("keys", [])]
    values = {name: value for name, value in payload.items() if name not in ("keys", "terms")}
    values.update(payload.get("terms", {}))
    for name, value in values.items():
        before, after = _shown(target, name, _current(target, name)), _shown(target, name, value)
        if before != after:
            field = _field(target, name)
            rows.append((capfirst(str(field.verbose_name) if field else name.replace("_", " ")), before, after))
    return rows


def _new_key(key: dict[str, Any]) -> tuple[str, str, str]:
    jwk = key.get("jwk") or {}
    kind = "/".join(str(jwk[member]) for member in ("kty", "crv") if member in jwk)
    start = utc(datetime.fromisoformat(key["not_before"])) if key.get("not_before") else "its approval"
    end = f" until {utc(datetime.fromisoformat(key['not_after']))}" if key.get("not_after") else ""
    return f"New key {key.get('kid')}", "not registered", f"{key.get('alg')} {kind}, valid from {start}{end}"


def changes_table(proposal: Proposal) -> str:
    rows = changes(proposal)
    if not rows:
        return "nothing differs from the target as it is now"
    body = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        "<table><thead><tr><th scope='col'>What</th><th scope='col'>Now</th>"
        "<th scope='col'>After approval</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def decision_context(proposal: Proposal, user: Any) -> dict[str, Any]:
    """Which buttons the viewer gets, and what the page says instead."""
    country = country_code(proposal.country)
    pending = proposal.status == ProposalStatus.PENDING
    proposer = pending and user.pk == proposal.proposed_by_id
    may_decide = pending and decide_refusal(proposal, user) is None
    if not pending:
        waiting = ""
    elif proposer:
        waiting = f"Awaiting approval by another {country} administrator."
    elif not may_decide:
        waiting = f"Awaiting approval by an administrator of {country} other than {proposal.proposed_by}."
    else:
        waiting = ""
    return {"may_decide": may_decide, "may_withdraw": proposer, "waiting": waiting}


def pending_proposals_notice(request: HttpRequest, model: type[models.Model], object_id: str) -> None:
    """On a row's page: its pending proposals, linked, for those who may see them."""
    if not object_id.isdigit():
        return
    scope = scope_of(request.user)
    pending = Proposal.objects.filter(
        target_model=model._meta.label, target_id=int(object_id), status=ProposalStatus.PENDING
    ).select_related("proposed_by")
    if not scope.reads_everything:
        pending = pending.filter(country=scope.country) if scope.country else pending.none()
    for proposal in pending:
        messages.info(
            request,
            format_html(
                'Pending <a href="{}">proposal #{}</a>: {} (proposed by {}, awaiting a second {} administrator).',
                proposal_url(proposal),
                proposal.pk,
                proposal.summary,
                proposal.proposed_by,
                country_code(proposal.country),
            ),
        )
