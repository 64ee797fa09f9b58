"""Merchants: registered by their authority, their details changed,
suspended, reinstated, revoked (final). The registration number (the
credentials' `sub`) never changes."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.changes import User, change_status, locked, save_with_history
from identity.models import Assurance, Authority, Merchant, MerchantStatus

MERCHANT_TRANSITIONS = {
    MerchantStatus.ACTIVE: {MerchantStatus.SUSPENDED, MerchantStatus.REVOKED},
    MerchantStatus.SUSPENDED: {MerchantStatus.ACTIVE, MerchantStatus.REVOKED},
    MerchantStatus.REVOKED: set(),
}


@transaction.atomic
def merchant_register(
    *,
    authority: Authority,
    registration_number: str,
    legal_name: str,
    assurance: str = Assurance.SUBSTANTIAL,
    lei: str = "",
    user: User = None,
) -> Merchant:
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        raise ValidationError(
            f"assurance {assurance} is above what {authority.issuer} is accredited for ({authority.max_assurance})"
        )
    merchant = Merchant(
        authority=authority,
        registration_number=registration_number,
        legal_name=legal_name,
        assurance=assurance,
        lei=lei,
    )
    save_with_history(merchant, user=user, reason="registered")
    return merchant


@transaction.atomic
def merchant_update(
    *, merchant: Merchant, legal_name: str, assurance: str, lei: str = "", user: User = None
) -> Merchant:
    """Change a merchant's details; its registration number (the credentials'
    `sub`) never changes."""
    merchant = locked(Merchant, merchant.pk)
    if merchant.status == MerchantStatus.REVOKED:
        raise ValidationError(f"merchant {merchant.registration_number} is revoked; it is no longer changed")
    authority = merchant.authority
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        raise ValidationError(
            f"assurance {assurance} is above what {authority.issuer} is accredited for ({authority.max_assurance})"
        )
    merchant.legal_name, merchant.assurance, merchant.lei = legal_name, assurance, lei
    save_with_history(merchant, user=user, reason="details changed")
    return merchant


@transaction.atomic
def merchant_set_status(*, merchant: Merchant, status: str, user: User = None, reason: str = "") -> Merchant:
    return change_status(
        Merchant,
        merchant.pk,
        to=status,
        allowed=MERCHANT_TRANSITIONS,
        what=lambda row: f"merchant {row.registration_number}",
        user=user,
        reason=reason,
    )


def merchant_suspend(*, merchant: Merchant, user: User = None, reason: str = "") -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.SUSPENDED, user=user, reason=reason)


def merchant_revoke(*, merchant: Merchant, user: User = None, reason: str = "") -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.REVOKED, user=user, reason=reason)


def merchant_reinstate(*, merchant: Merchant, user: User = None, reason: str = "") -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.ACTIVE, user=user, reason=reason)
