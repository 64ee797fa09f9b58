"""Which changes of an agreement widen trust (README, Four-eyes approval):
a lower minimum assurance, more credential types, an earlier start, a later or
no end. A change that also narrows is proposed whole; one that only narrows,
or only changes wording (legal basis, notes, reference URL), applies at once."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from core.instants import utc_text
from identity.models import Assurance, CredentialType
from recognition.models import RecognitionAgreement

DATETIME_TERMS = ("valid_from", "valid_until")


def _when(value: datetime | None) -> str:
    return "open-ended" if value is None else utc_text(value)


def _second(value: datetime) -> datetime:
    # Forms show instants to the second: the microseconds a form drops are no change.
    return value.replace(microsecond=0)


def widened_terms(
    before: RecognitionAgreement, before_types: set[str], after: RecognitionAgreement, after_types: set[str]
) -> list[str]:
    """What the new terms recognize that the old did not, one phrase each;
    empty when nothing widens."""
    widened = []
    if Assurance.rank(after.min_assurance) < Assurance.rank(before.min_assurance):
        widened.append(f"minimum assurance {before.min_assurance} → {after.min_assurance}")
    added = sorted(after_types - before_types)
    if added:
        widened.append(f"adds credential types {', '.join(added)}")
    if _second(after.valid_from) < _second(before.valid_from):
        widened.append(f"starts earlier ({_when(before.valid_from)} → {_when(after.valid_from)})")
    if before.valid_until is not None and (
        after.valid_until is None or _second(after.valid_until) > _second(before.valid_until)
    ):
        widened.append(f"ends later ({_when(before.valid_until)} → {_when(after.valid_until)})")
    return widened


def terms_payload(terms: dict[str, Any], types: list[CredentialType]) -> dict[str, Any]:
    """The change as JSON, for the proposal (instants in ISO 8601)."""
    values = {name: (value.isoformat() if isinstance(value, datetime) else value) for name, value in terms.items()}
    return {"terms": values, "credential_types": [credential_type.code for credential_type in types]}


def terms_from_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], list[CredentialType]]:
    """The change a proposal holds, back as the service's arguments."""
    terms = dict(payload.get("terms", {}))
    for name in DATETIME_TERMS:
        if isinstance(terms.get(name), str):
            terms[name] = datetime.fromisoformat(terms[name])
    codes = payload.get("credential_types", [])
    types = list(CredentialType.objects.filter(code__in=codes))
    missing = set(codes) - {credential_type.code for credential_type in types}
    if missing:
        raise ValidationError(f"credential types no longer exist: {', '.join(sorted(missing))}")
    return terms, types


def describe(agreement: RecognitionAgreement) -> str:
    """ "China recognizes Ministry of Economy (AE)", for a proposal's summary."""
    return f"{agreement.destination.name} recognizes {agreement.authority.name} ({agreement.authority.country.code})"
