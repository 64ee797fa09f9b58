"""Authorities: registered, renamed or re-accredited, suspended, reinstated,
revoked (final)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Proposal
from accounts.proposals import proposal_needed, propose, register_executor
from core.changes import User, change_status, locked, save_with_history, transition, with_reason
from identity.models import Assurance, Authority, AuthorityStatus

# The proposals a country administrator's widening becomes (accounts.proposals).
REINSTATE = "authority.reinstate"
RAISE_ACCREDITATION = "authority.update"

AUTHORITY_TRANSITIONS = {
    AuthorityStatus.ACTIVE: {AuthorityStatus.SUSPENDED, AuthorityStatus.REVOKED},
    AuthorityStatus.SUSPENDED: {AuthorityStatus.ACTIVE, AuthorityStatus.REVOKED},
    # Revocation is final: a revoked authority's credentials never count again.
    AuthorityStatus.REVOKED: set(),
}


@transaction.atomic
def authority_create(
    *, country: str, name: str, issuer: str, max_assurance: str = Assurance.HIGH, user: User = None
) -> Authority:
    authority = Authority(country=country, name=name, issuer=issuer, max_assurance=max_assurance)
    save_with_history(authority, user=user, reason="created")
    return authority


@transaction.atomic
def authority_update(
    *, authority: Authority, name: str, max_assurance: str, user: User = None, reason: str = ""
) -> Authority | Proposal:
    """Change an authority's name or accreditation. The country and the issuer
    never change: agreements and issued credentials name them. A country
    administrator's raise of the accreditation is proposed (with the rest of
    the change)."""
    authority = locked(Authority, authority.pk)
    if authority.status == AuthorityStatus.REVOKED:
        raise ValidationError(f"authority {authority.issuer} is revoked; it is no longer changed")
    before, before_name = authority.max_assurance, authority.name
    authority.name, authority.max_assurance = name, max_assurance
    if Assurance.rank(max_assurance) > Assurance.rank(before) and proposal_needed(user):
        authority.full_clean()
        renamed = f"; renamed {name}" if name != before_name else ""
        return propose(
            action=RAISE_ACCREDITATION,
            country=authority.country,
            target=authority,
            payload={"name": name, "max_assurance": max_assurance},
            summary=f"Raise the accreditation of {authority.issuer} ({authority.country.code}): "
            f"maximum assurance {before} → {max_assurance}{renamed}",
            reason=reason,
            user=user,
        )
    save_with_history(authority, user=user, reason=with_reason("details changed", reason))
    return authority


@transaction.atomic
def authority_set_status(
    *, authority: Authority, status: str, user: User = None, reason: str = ""
) -> Authority | Proposal:
    """Move an authority along its statuses; a country administrator's
    reinstatement is proposed instead."""
    if status == AuthorityStatus.ACTIVE and proposal_needed(user):
        row = locked(Authority, authority.pk)
        transition(row, to=status, allowed=AUTHORITY_TRANSITIONS, what=f"authority {row.issuer}")
        return propose(
            action=REINSTATE,
            country=row.country,
            target=row,
            payload={"status": status},
            summary=f"Reinstate authority {row.name} ({row.country.code}, {row.issuer})",
            reason=reason,
            user=user,
        )
    return change_status(
        Authority,
        authority.pk,
        to=status,
        allowed=AUTHORITY_TRANSITIONS,
        what=lambda row: f"authority {row.issuer}",
        user=user,
        reason=reason,
    )


def authority_suspend(*, authority: Authority, user: User = None, reason: str = "") -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.SUSPENDED, user=user, reason=reason)


def authority_revoke(*, authority: Authority, user: User = None, reason: str = "") -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.REVOKED, user=user, reason=reason)


def authority_reinstate(*, authority: Authority, user: User = None, reason: str = "") -> Authority | Proposal:
    return authority_set_status(authority=authority, status=AuthorityStatus.ACTIVE, user=user, reason=reason)


def _apply_reinstatement(authority: Authority, payload: dict, *, user: User, reason: str) -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.ACTIVE, user=user, reason=reason)


def _apply_update(authority: Authority, payload: dict, *, user: User, reason: str) -> Authority:
    return authority_update(
        authority=authority, name=payload["name"], max_assurance=payload["max_assurance"], user=user, reason=reason
    )


def _applied(authority: Authority) -> dict:
    return {"authority": authority.pk, "status": authority.status, "max_assurance": authority.max_assurance}


def register_executors() -> None:
    """The approved proposals of authorities apply through these services (app ready())."""
    register_executor(REINSTATE, _apply_reinstatement, _applied)
    register_executor(RAISE_ACCREDITATION, _apply_update, _applied)
