"""Four-eyes control over every widening of trust (README, Four-eyes approval):
a country administrator's widening is a `Proposal` that takes effect only when
another active administrator of the same country approves it. Narrowing is
never proposed: a compromise cannot wait.

The services that widen trust (identity, recognition) ask
`proposal_needed(user)` and call `propose` instead of applying the change;
each registers at app ready() the executor that applies an approved proposal
through the very same service, so that approval re-checks everything the
direct path checks. Dependencies run one way: this module knows the target
models only by their labels.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Proposal, ProposalStatus, Role
from accounts.scope import country_code, scope_of
from core.changes import locked, save_with_history, with_reason
from core.instants import utc_text

# An executor applies an approved proposal: (target row, payload, user=, reason=) -> result.
Executor = Callable[..., Any]
_executors: dict[str, tuple[Executor, Callable[[Any], dict]]] = {}
_applying: ContextVar[bool] = ContextVar("applying_an_approved_proposal", default=False)


class StaleProposal(ValidationError):
    """The target changed since the proposal was made; the proposal was
    marked stale in a transaction of its own, committed before this is raised
    (a caller inside a transaction of its own must let it commit)."""


def register_executor(action: str, execute: Executor, result: Callable[[Any], dict] | None = None) -> None:
    """Apply proposals of `action` with `execute`; `result` describes what it
    made (kept in the proposal, e.g. the new keys' kids)."""
    _executors[action] = (execute, result or (lambda value: {}))


def needs_second_person(user: Any) -> bool:
    """Whether `user`'s widening of trust waits for a second person: true for
    a country administrator; the superuser and the registry operator (a
    command without --as, user None) act directly, recorded with their name."""
    return scope_of(user).role == Role.COUNTRY_ADMIN


def proposal_needed(user: Any) -> bool:
    """What a widening service asks: propose rather than apply (an approved
    proposal is applied by the same service, which must then apply it)."""
    return needs_second_person(user) and not _applying.get()


@contextmanager
def _approved() -> Iterator[None]:
    token = _applying.set(True)
    try:
        yield
    finally:
        _applying.reset(token)


def _target_model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _history(model: type[models.Model]) -> Any:
    return getattr(model, model._meta.simple_history_manager_attribute)


def _latest_record(model: type[models.Model], pk: int) -> Any:
    return _history(model).filter(**{model._meta.pk.attname: pk}).order_by("-history_id").first()


def _target_name(proposal: Proposal) -> str:
    return f"{_target_model(proposal.target_model)._meta.verbose_name} #{proposal.target_id}"


def propose(
    *, action: str, country: object, target: models.Model, payload: dict, summary: str, reason: str, user: Any
) -> Proposal:
    """Record a widening of trust for a second administrator of `country` to
    approve. Refused without a reason, outside the proposer's country, for an
    action nobody can apply, or while another proposal of the same action on
    the same target is pending (it is named)."""
    code = country_code(country)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("a widening of trust is proposed for a second administrator's approval: give a reason")
    if not scope_of(user).owns(code):
        raise ValidationError(f"{user} does not administer {code}")
    if action not in _executors:
        raise ValidationError(f"no proposal can apply {action!r}")
    model = type(target)
    # Two proposals of one target are made one after the other.
    locked(model, target.pk)
    label = model._meta.label
    pending = Proposal.objects.filter(
        target_model=label, target_id=target.pk, action=action, status=ProposalStatus.PENDING
    ).first()
    if pending is not None:
        raise ValidationError(
            f"proposal #{pending.pk} ({pending.summary}) already awaits approval; "
            "have it approved, refused or withdrawn first"
        )
    latest = _latest_record(model, target.pk)
    proposal = Proposal(
        country=code,
        action=action,
        target_model=label,
        target_id=target.pk,
        target_version=latest.history_id if latest is not None else None,
        payload=payload,
        summary=summary[: Proposal._meta.get_field("summary").max_length],
        reason=reason,
        proposed_by=user,
    )
    save_with_history(proposal, user=user, reason=with_reason("proposed", reason))
    return proposal


def decide_refusal(proposal: Proposal, user: Any) -> str | None:
    """None if `user` may approve or refuse `proposal`, else why not: only
    another active administrator of the proposal's country decides (approval
    is the country's: neither a regulator nor the superuser gives it)."""
    if proposal.status != ProposalStatus.PENDING:
        return f"proposal #{proposal.pk} is {proposal.status}; only a pending proposal is decided"
    scope = scope_of(user)
    country = country_code(proposal.country)
    if scope.role != Role.COUNTRY_ADMIN or scope.country != country:
        return f"only another administrator of {country} may approve or refuse proposal #{proposal.pk}"
    if user.pk == proposal.proposed_by_id:
        return (
            f"you proposed #{proposal.pk}: another administrator of {country} must approve or refuse it "
            "(you may withdraw it)"
        )
    return None


def is_stale(proposal: Proposal) -> bool:
    """Whether the target changed since the proposal was made."""
    return _what_changed(proposal) is not None


def _what_changed(proposal: Proposal) -> str | None:
    latest = _latest_record(_target_model(proposal.target_model), proposal.target_id)
    latest_id = latest.history_id if latest is not None else None
    if latest_id == proposal.target_version:
        return None
    who = latest.history_user or getattr(latest, "history_operator", "") or "the registry operator"
    what = latest.history_change_reason or "changed"
    return f"{_target_name(proposal)} changed since it was proposed ({what}, by {who}, {utc_text(latest.history_date)})"


def _decided(proposal: Proposal, *, status: str, user: Any, reason: str, label: str) -> Proposal:
    proposal.status = status
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.decision_reason = reason
    save_with_history(proposal, user=user, reason=with_reason(label, reason))
    return proposal


def _locked_for_decision(proposal: Proposal, user: Any) -> Proposal:
    """The proposal, locked (two decisions never both apply), if `user` may decide it."""
    proposal = locked(Proposal, proposal.pk)
    refusal = decide_refusal(proposal, user)
    if refusal:
        raise ValidationError(refusal)
    return proposal


def approve(*, proposal: Proposal, user: Any, reason: str = "") -> Any:
    """Apply a pending proposal, as `user`, through the service that would
    have applied it directly, in one transaction with the approval; returns
    the service's result. A stale proposal is marked stale and refused
    (`StaleProposal`), naming what changed."""
    reason = " ".join((reason or "").split())
    with transaction.atomic():
        proposal = _locked_for_decision(proposal, user)
        execute, describe = _executors[proposal.action]
        target = locked(_target_model(proposal.target_model), proposal.target_id)
        changed = _what_changed(proposal)
        if changed is None:
            applied = f"approved proposal #{proposal.pk} proposed by {proposal.proposed_by}: {proposal.reason}"
            with _approved():
                result = execute(target, proposal.payload, user=user, reason=applied)
            proposal.result = describe(result)
            _decided(proposal, status=ProposalStatus.APPROVED, user=user, reason=reason, label="approved")
            return result
        _decided(proposal, status=ProposalStatus.STALE, user=user, reason=changed, label="stale")
    raise StaleProposal(f"proposal #{proposal.pk} is stale: {changed}; propose the change again if it still holds")


def refuse(*, proposal: Proposal, user: Any, reason: str) -> Proposal:
    """Refuse a pending proposal; another administrator of its country says why."""
    reason = " ".join((reason or "").split())
    with transaction.atomic():
        proposal = _locked_for_decision(proposal, user)
        if not reason:
            raise ValidationError(f"say why proposal #{proposal.pk} is refused")
        return _decided(proposal, status=ProposalStatus.REFUSED, user=user, reason=reason, label="refused")


def withdraw(*, proposal: Proposal, user: Any, reason: str = "") -> Proposal:
    """The proposer takes back a pending proposal."""
    reason = " ".join((reason or "").split())
    with transaction.atomic():
        proposal = locked(Proposal, proposal.pk)
        if proposal.status != ProposalStatus.PENDING:
            raise ValidationError(f"proposal #{proposal.pk} is {proposal.status}; only a pending proposal is withdrawn")
        if user is None or user.pk != proposal.proposed_by_id:
            raise ValidationError(f"only {proposal.proposed_by}, who proposed #{proposal.pk}, may withdraw it")
        return _decided(proposal, status=ProposalStatus.WITHDRAWN, user=user, reason=reason, label="withdrawn")


def proposal_by_id(value: object) -> Proposal:
    try:
        return Proposal.objects.select_related("proposed_by").get(pk=int(str(value)))
    except (Proposal.DoesNotExist, ValueError, TypeError):
        raise ValidationError(f"no proposal with id {value!r}") from None
