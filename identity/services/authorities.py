"""Authorities: registered, renamed or re-accredited, suspended, reinstated,
revoked (final)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.changes import User, change_status, locked, save_with_history, with_reason
from identity.models import Assurance, Authority, AuthorityStatus

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
) -> Authority:
    """Change an authority's name or accreditation. The country and the issuer
    never change: agreements and issued credentials name them."""
    authority = locked(Authority, authority.pk)
    if authority.status == AuthorityStatus.REVOKED:
        raise ValidationError(f"authority {authority.issuer} is revoked; it is no longer changed")
    authority.name, authority.max_assurance = name, max_assurance
    save_with_history(authority, user=user, reason=with_reason("details changed", reason))
    return authority


@transaction.atomic
def authority_set_status(*, authority: Authority, status: str, user: User = None, reason: str = "") -> Authority:
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


def authority_reinstate(*, authority: Authority, user: User = None, reason: str = "") -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.ACTIVE, user=user, reason=reason)
