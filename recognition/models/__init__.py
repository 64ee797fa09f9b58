"""The recognition app's models, one module a concern: agreements, the
decisions of the audit log, the transparency log itself, the registry's own
keys and trust-list state."""

from recognition.models.agreements import (
    AgreementStatus,
    RecognitionAgreement,
    RecognitionAgreementQuerySet,
    agreement_history,
)
from recognition.models.audit import Verification
from recognition.models.log import (
    AppendOnlyError,
    ChangeRecord,
    Checkpoint,
    EntryKind,
    LogEntry,
    LogPublicKey,
    LogState,
    LogTile,
)
from recognition.models.trust import RegistryKey, TrustListState
from recognition.models.witness import Cosignature, Witness, WitnessEvent, WitnessOutcome

__all__ = [
    "AgreementStatus",
    "AppendOnlyError",
    "ChangeRecord",
    "Checkpoint",
    "Cosignature",
    "EntryKind",
    "LogEntry",
    "LogPublicKey",
    "LogState",
    "LogTile",
    "RecognitionAgreement",
    "RecognitionAgreementQuerySet",
    "RegistryKey",
    "TrustListState",
    "Verification",
    "Witness",
    "WitnessEvent",
    "WitnessOutcome",
    "agreement_history",
]
