"""The recognition app's models, one module a concern: agreements, the audit
log, the registry's own keys and trust-list state."""

from recognition.models.agreements import (
    AgreementStatus,
    RecognitionAgreement,
    RecognitionAgreementQuerySet,
    agreement_history,
)
from recognition.models.audit import AppendOnlyError, Verification, VerificationQuerySet
from recognition.models.trust import RegistryKey, TrustListState

__all__ = [
    "AgreementStatus",
    "AppendOnlyError",
    "RecognitionAgreement",
    "RecognitionAgreementQuerySet",
    "RegistryKey",
    "TrustListState",
    "Verification",
    "VerificationQuerySet",
    "agreement_history",
]
