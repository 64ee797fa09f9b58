"""Credential types, and the credentials issued through the registry's tools:
signed with the authority's private key (DESIGN §4 profile, with the `status`
claim of draft-ietf-oauth-status-list-20 §6.1), recorded, suspended,
reinstated and revoked (final)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.changes import User, change_status, locked, save_with_history
from identity.jose.algorithms import CREDENTIAL_TYP
from identity.jose.jwk import thumbprint
from identity.jose.key_files import public_jwk_of
from identity.models import (
    Assurance,
    Authority,
    AuthorityKey,
    AuthorityStatus,
    CredentialStatus,
    CredentialType,
    IssuedCredential,
    KeyStatus,
    Merchant,
    MerchantStatus,
)
from identity.selectors import key_by_kid
from identity.services.status_lists import status_index_allocate, status_list_uri


@transaction.atomic
def credential_type_create(*, code: str, name: str, description: str = "", user: User = None) -> CredentialType:
    credential_type = CredentialType(code=code, name=name, description=description)
    save_with_history(credential_type, user=user, reason="created")
    return credential_type


@dataclass(frozen=True)
class Issued:
    token: str
    credential: IssuedCredential


def _key_for_private(authority: Authority, private_key: Any, kid: str | None) -> AuthorityKey:
    """The registered key whose public half matches `private_key`."""
    if not hasattr(private_key, "sign"):
        raise ValidationError("the key file holds a public key; a private key is needed to sign")
    public_print = thumbprint(public_jwk_of(private_key))
    candidates = [key_by_kid(authority, kid)] if kid else list(authority.keys.all())
    for key in candidates:
        if thumbprint(key.public_jwk) == public_print:
            return key
    if kid:
        raise ValidationError(f"the private key does not match key {kid!r} of {authority.issuer}")
    raise ValidationError(f"the private key matches no registered key of {authority.issuer}")


def _check_can_issue(*, merchant: Merchant, key: AuthorityKey, assurance: str, days: int, now: datetime) -> None:
    authority = merchant.authority
    problems = []
    if authority.status != AuthorityStatus.ACTIVE:
        problems.append(f"authority {authority.issuer} is {authority.status}")
    if merchant.status != MerchantStatus.ACTIVE:
        problems.append(f"merchant {merchant.registration_number} is {merchant.status}")
    if key.status != KeyStatus.ACTIVE:
        problems.append(f"key {key.kid} is {key.status}")
    if key.not_before > now or (key.not_after is not None and key.not_after <= now):
        problems.append(f"key {key.kid} is outside its validity window")
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        problems.append(f"assurance {assurance} is above the authority's accreditation ({authority.max_assurance})")
    if Assurance.rank(assurance) > Assurance.rank(merchant.assurance):
        problems.append(f"assurance {assurance} is above the merchant's ({merchant.assurance})")
    max_days = settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"]
    if not 1 <= days <= max_days:
        problems.append(f"days must be between 1 and {max_days}, not {days}")
    if problems:
        raise ValidationError("; ".join(problems))


@transaction.atomic
def credential_issue(
    *,
    merchant: Merchant,
    private_key: Any,
    credential_type: CredentialType,
    kid: str | None = None,
    assurance: str | None = None,
    days: int = 365,
    now: datetime | None = None,
    user: User = None,
) -> Issued:
    """Sign a credential of the DESIGN §4 profile and record it, with its
    entry in the registry's status list (the `status` claim)."""
    now = (now or timezone.now()).replace(microsecond=0)
    authority = merchant.authority
    key = _key_for_private(authority, private_key, kid)
    assurance = assurance or merchant.assurance
    _check_can_issue(merchant=merchant, key=key, assurance=assurance, days=days, now=now)
    expires = now + timedelta(days=days)
    jti = str(uuid.uuid4())
    merchant_claim = {
        "legal_name": merchant.legal_name,
        "registration_number": merchant.registration_number,
        "country": authority.country.code,
    }
    if merchant.lei:
        merchant_claim["lei"] = merchant.lei
    claims = {
        "iss": authority.issuer,
        "sub": merchant.registration_number,
        "jti": jti,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "credential_type": credential_type.code,
        "assurance": assurance,
        "merchant": merchant_claim,
    }
    status_list, status_index = status_index_allocate()
    claims["status"] = {"status_list": {"idx": status_index, "uri": status_list_uri(status_list)}}
    token = jwt.encode(claims, private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": CREDENTIAL_TYP})
    credential = IssuedCredential(
        jti=jti,
        merchant=merchant,
        key=key,
        credential_type=credential_type,
        assurance=assurance,
        issued_at=now,
        expires_at=expires,
        status_list=status_list,
        status_index=status_index,
    )
    save_with_history(credential, user=user, reason="issued")
    return Issued(token=token, credential=credential)


@transaction.atomic
def credential_revoke(*, credential: IssuedCredential, reason: str = "", user: User = None) -> IssuedCredential:
    credential = locked(IssuedCredential, credential.pk)
    if credential.status == CredentialStatus.REVOKED:
        raise ValidationError(f"credential {credential.jti} is already revoked")
    credential.status = CredentialStatus.REVOKED
    credential.revoked_at = timezone.now()
    credential.reason = reason
    # The reason is kept in the row itself (its `reason` field, in history too).
    save_with_history(credential, user=user, reason="revoked")
    return credential


# Suspension is temporary (spec: SUSPENDED in the status list,
# credential_suspended in the decision); revocation is final.
CREDENTIAL_TRANSITIONS = {
    CredentialStatus.VALID: {CredentialStatus.SUSPENDED, CredentialStatus.REVOKED},
    CredentialStatus.SUSPENDED: {CredentialStatus.VALID, CredentialStatus.REVOKED},
    CredentialStatus.REVOKED: set(),
}


@transaction.atomic
def credential_suspend(*, credential: IssuedCredential, reason: str = "", user: User = None) -> IssuedCredential:
    """Suspend a credential: refused as credential_suspended, SUSPENDED in
    its status list, until reinstated. The reason is kept in its history."""
    return _move(credential, CredentialStatus.SUSPENDED, reason=reason, user=user)


@transaction.atomic
def credential_reinstate(*, credential: IssuedCredential, reason: str = "", user: User = None) -> IssuedCredential:
    """Make a suspended credential valid again, at once (like a merchant's
    reinstatement). A revoked credential stays revoked."""
    return _move(credential, CredentialStatus.VALID, reason=reason, user=user)


def _move(credential: IssuedCredential, to: str, *, reason: str, user: User) -> IssuedCredential:
    return change_status(
        IssuedCredential,
        credential.pk,
        to=to,
        allowed=CREDENTIAL_TRANSITIONS,
        what=lambda row: f"credential {row.jti}",
        user=user,
        reason=reason,
    )
