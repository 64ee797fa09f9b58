"""Every change to the registry's rules becomes a log entry (DESIGN §6): a
change entry for every history record of the tracked models, written in the
same transaction as the change, whatever made it (a service, the admin, a
command). simple-history announces each record it writes; that signal is the
one place where every change, and only a change, passes."""

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from simple_history.signals import post_create_historical_record

from recognition.log.entries import change_entry
from recognition.models import ChangeRecord, LogEntry

TRACKED = (
    "accounts.Proposal",
    "identity.Authority",
    "identity.AuthorityKey",
    "identity.Merchant",
    "identity.CredentialType",
    "identity.IssuedCredential",
    "recognition.RecognitionAgreement",
    "recognition.Witness",
)


def record_change(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    try:
        entry = change_entry(history_instance)
    except ValueError as exc:  # too large for the log: the change is refused with it
        raise ValidationError(str(exc)) from None
    row = LogEntry.objects.create(
        id=entry.id, kind=entry.kind, created_at=entry.created_at, body=entry.body, leaf_hash=entry.leaf_hash
    )
    # The way back from the record to its entry, for dispute evidence.
    ChangeRecord.objects.create(
        model=history_instance.instance_type._meta.label_lower, history_id=history_instance.history_id, entry=row
    )


def connect() -> None:
    for label in TRACKED:
        history_model = apps.get_model(label).history.model
        post_create_historical_record.connect(record_change, sender=history_model, dispatch_uid=f"log-{label}")
