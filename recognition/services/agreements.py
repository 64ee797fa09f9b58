"""Recognition agreements: create, activate, suspend, terminate, and propose
the reciprocal (DESIGN §3, §7). Agreements are never deleted."""

import copy
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Proposal
from accounts.proposals import proposal_needed, propose, register_executor
from core.changes import User, change_status, locked, transition, with_reason
from identity.models import Assurance, Authority, AuthorityStatus, CredentialType
from recognition.models import AgreementStatus, RecognitionAgreement, agreement_history
from recognition.services.widening import describe, terms_from_payload, terms_payload, widened_terms

# The proposals a country administrator's widening becomes (accounts.proposals).
ACTIVATE = "agreement.activate"
CHANGE_TERMS = "agreement.terms"

AGREEMENT_TRANSITIONS = {
    AgreementStatus.DRAFT: {AgreementStatus.ACTIVE, AgreementStatus.TERMINATED},
    AgreementStatus.ACTIVE: {AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED},
    AgreementStatus.SUSPENDED: {AgreementStatus.ACTIVE, AgreementStatus.TERMINATED},
    # Terminated is final: a new agreement is made instead, so history stays readable.
    AgreementStatus.TERMINATED: set(),
}


def _check_terms(agreement: RecognitionAgreement, types: list[CredentialType]) -> None:
    if agreement.destination == agreement.authority.country:
        raise ValidationError(
            f"{agreement.authority.issuer} is an authority of {agreement.destination}; "
            "domestic trust needs no agreement"
        )
    if not types:
        raise ValidationError("an agreement recognizes at least one credential type")
    if agreement.valid_until is not None and agreement.valid_until <= agreement.valid_from:
        raise ValidationError("valid_until must be after valid_from")


def _check_not_a_duplicate(agreement: RecognitionAgreement, types: list[CredentialType]) -> None:
    """A second non-terminated agreement with the very same terms (destination,
    authority, credential types, minimum assurance, window) recognizes nothing
    more: it is refused, naming the one to change instead."""
    same_terms = (
        RecognitionAgreement.objects.filter(
            destination=agreement.destination,
            authority=agreement.authority,
            min_assurance=agreement.min_assurance,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
        )
        .exclude(status=AgreementStatus.TERMINATED)
        .prefetch_related("credential_types")
        .order_by("pk")
    )
    wanted = {credential_type.pk for credential_type in types}
    for existing in same_terms:
        if {credential_type.pk for credential_type in existing.credential_types.all()} == wanted:
            raise ValidationError(
                f"agreement {existing.pk} ({existing.status}) already has these terms for "
                f"{agreement.authority.issuer} in {agreement.destination}; change or terminate it "
                "instead of creating a duplicate"
            )


def _save_with_types(agreement: RecognitionAgreement, types: list[CredentialType], *, user: User, reason: str) -> None:
    """Save the row and its credential types as one history version
    (simple-history would otherwise write one for the row and one per m2m
    change)."""
    created = agreement.pk is None
    agreement.full_clean()
    agreement.skip_history_when_saving = True
    try:
        agreement.save()
        agreement.credential_types.set(types)
    finally:
        del agreement.skip_history_when_saving
    agreement._history_user = user
    agreement._change_reason = reason
    agreement_history.create_historical_record(agreement, "+" if created else "~")


@transaction.atomic
def agreement_create(
    *,
    destination: str,
    authority: Authority,
    credential_types: Iterable[CredentialType],
    min_assurance: str = Assurance.SUBSTANTIAL,
    legal_basis: str = "",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    reference_url: str = "",
    notes: str = "",
    activate: bool = False,
    user: User = None,
    reason: str = "",
) -> RecognitionAgreement | Proposal:
    """Create an agreement as a draft (or activate it at once). The history
    gets one "created" version that already holds the credential types. A
    country administrator's activation is proposed: the draft is made and
    the proposal to activate it returned."""
    types = list(credential_types)
    # One creation at a time per authority, so that two identical requests
    # cannot both pass the duplicate check.
    authority = locked(Authority, authority.pk)
    agreement = RecognitionAgreement(
        destination=destination,
        authority=authority,
        origin=authority.country,
        min_assurance=min_assurance,
        legal_basis=legal_basis.strip(),
        valid_from=valid_from or timezone.now(),
        valid_until=valid_until,
        reference_url=reference_url,
        notes=notes,
        status=AgreementStatus.DRAFT,
    )
    _check_terms(agreement, types)
    _check_not_a_duplicate(agreement, types)
    if activate:
        _check_activation(agreement)
        if proposal_needed(user):
            # A draft recognizes nothing: it is made at once, its activation proposed.
            _save_with_types(agreement, types, user=user, reason=with_reason("created", reason))
            return _propose_activation(agreement, user=user, reason=reason)
        agreement.status = AgreementStatus.ACTIVE
    _save_with_types(
        agreement, types, user=user, reason=with_reason("created" + (" and activated" if activate else ""), reason)
    )
    return agreement


@transaction.atomic
def agreement_update_terms(
    *,
    agreement: RecognitionAgreement,
    credential_types: Iterable[CredentialType],
    user: User = None,
    reason: str = "",
    **terms: object,
) -> RecognitionAgreement | Proposal:
    """Change the terms (types, assurance, window, legal basis, notes) of a
    non-terminated agreement; the destination and the authority never change.
    A country administrator's change that widens the trust of an active or
    suspended agreement is proposed whole (README, Four-eyes approval)."""
    agreement = locked(RecognitionAgreement, agreement.pk)
    before = copy.copy(agreement)
    before_types = set(agreement.credential_types.values_list("code", flat=True))
    if agreement.status == AgreementStatus.TERMINATED:
        raise ValidationError("a terminated agreement cannot be changed")
    editable = {"min_assurance", "valid_from", "valid_until", "legal_basis", "reference_url", "notes"}
    unknown = set(terms) - editable
    if unknown:
        raise ValidationError(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    for name, value in terms.items():
        setattr(agreement, name, value.strip() if name == "legal_basis" else value)
    types = list(credential_types)
    _check_terms(agreement, types)
    if agreement.status != AgreementStatus.DRAFT:
        _check_activation(agreement)
        widened = widened_terms(before, before_types, agreement, {credential_type.code for credential_type in types})
        if widened and proposal_needed(user):
            return propose(
                action=CHANGE_TERMS,
                country=agreement.destination,
                target=agreement,
                payload=terms_payload(terms, types),
                summary=f"Change the terms of agreement #{agreement.pk} ({describe(agreement)}): {'; '.join(widened)}",
                reason=reason,
                user=user,
            )
    _save_with_types(agreement, types, user=user, reason=with_reason("terms changed", reason))
    return agreement


def _check_activation(agreement: RecognitionAgreement) -> None:
    if not agreement.legal_basis.strip():
        raise ValidationError("an agreement cannot be activated without a legal basis")
    if agreement.authority.status == AuthorityStatus.REVOKED:
        raise ValidationError(f"authority {agreement.authority.issuer} is revoked")


@transaction.atomic
def agreement_set_status(
    *, agreement: RecognitionAgreement, status: str, user: User = None, reason: str = ""
) -> RecognitionAgreement | Proposal:
    """Move an agreement along its statuses; a country administrator's
    activation (or reinstatement) is proposed instead."""
    if status == AgreementStatus.ACTIVE and proposal_needed(user):
        return _propose_activation(agreement, user=user, reason=reason)
    return change_status(
        RecognitionAgreement,
        agreement.pk,
        to=status,
        allowed=AGREEMENT_TRANSITIONS,
        what=lambda row: f"agreement {row.pk}",
        user=user,
        check=_check_activation if status == AgreementStatus.ACTIVE else None,
        reason=reason,
    )


def _propose_activation(agreement: RecognitionAgreement, *, user: User, reason: str) -> Proposal:
    """Check all the activation would check, then propose it."""
    row = locked(RecognitionAgreement, agreement.pk)
    verb = "Reinstate" if row.status == AgreementStatus.SUSPENDED else "Activate"
    transition(row, to=AgreementStatus.ACTIVE, allowed=AGREEMENT_TRANSITIONS, what=f"agreement {row.pk}")
    _check_activation(row)
    return propose(
        action=ACTIVATE,
        country=row.destination,
        target=row,
        payload={"status": AgreementStatus.ACTIVE},
        summary=f"{verb} agreement #{row.pk}: {describe(row)}",
        reason=reason,
        user=user,
    )


def agreement_activate(
    *, agreement: RecognitionAgreement, user: User = None, reason: str = ""
) -> RecognitionAgreement | Proposal:
    return agreement_set_status(agreement=agreement, status=AgreementStatus.ACTIVE, user=user, reason=reason)


def agreement_suspend(*, agreement: RecognitionAgreement, user: User = None, reason: str = "") -> RecognitionAgreement:
    return agreement_set_status(agreement=agreement, status=AgreementStatus.SUSPENDED, user=user, reason=reason)


def agreement_terminate(
    *, agreement: RecognitionAgreement, user: User = None, reason: str = ""
) -> RecognitionAgreement:
    return agreement_set_status(agreement=agreement, status=AgreementStatus.TERMINATED, user=user, reason=reason)


@transaction.atomic
def agreement_propose_reciprocal(*, agreement: RecognitionAgreement, user: User = None) -> list[RecognitionAgreement]:
    """Draft, for the other country's administrators to review, the agreement
    the other way: the authority's country recognizing each active authority
    of this agreement's destination that it does not yet recognize."""
    origin_country = agreement.authority.country.code
    destination_authorities = Authority.objects.filter(
        country=agreement.destination, status=AuthorityStatus.ACTIVE
    ).exclude(recognitions__destination=origin_country)
    types = list(agreement.credential_types.all())
    drafts = [
        agreement_create(
            destination=origin_country,
            authority=authority,
            credential_types=types,
            min_assurance=agreement.min_assurance,
            legal_basis=agreement.legal_basis,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
            reference_url=agreement.reference_url,
            notes=f"Proposed as the reciprocal of agreement #{agreement.pk}.",
            user=user,
        )
        for authority in destination_authorities
    ]
    if not drafts:
        raise ValidationError(
            f"{origin_country} already has an agreement for every active authority of {agreement.destination.code}"
        )
    return drafts


def _apply_activation(agreement: RecognitionAgreement, payload: dict, *, user: User, reason: str) -> object:
    return agreement_set_status(agreement=agreement, status=AgreementStatus.ACTIVE, user=user, reason=reason)


def _apply_terms(agreement: RecognitionAgreement, payload: dict, *, user: User, reason: str) -> object:
    terms, types = terms_from_payload(payload)
    return agreement_update_terms(agreement=agreement, credential_types=types, user=user, reason=reason, **terms)


def _applied(agreement: RecognitionAgreement) -> dict:
    return {"agreement": agreement.pk, "status": agreement.status}


def register_executors() -> None:
    """The approved proposals of agreements apply through these services (app ready())."""
    register_executor(ACTIVATE, _apply_activation, _applied)
    register_executor(CHANGE_TERMS, _apply_terms, _applied)


def agreement_by_id(agreement_id: int) -> RecognitionAgreement:
    try:
        return RecognitionAgreement.objects.select_related("authority").get(pk=agreement_id)
    except (RecognitionAgreement.DoesNotExist, ValueError, TypeError):
        raise ValidationError(f"no agreement with id {agreement_id!r}") from None
