"""Registering witnesses and taking them out of service (DESIGN §11), for the
superuser: the admin and the commands call these. A witness is never deleted:
its cosignatures and events refer to it, and a retired witness stays listed
so that old cosigned checkpoints can still be checked against its key.

The pusher reads the active witnesses from the database at every round, so a
change made here counts from the next checkpoint on, with no restart."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.changes import User, locked, save_with_history
from recognition.models import Witness


def witness_by_name(name: str) -> Witness:
    witness = Witness.objects.filter(name=name).first()
    if witness is None:
        raise ValidationError(f"no witness is named {name!r}")
    return witness


def witness_add(*, name: str, country: str, url: str, vkey: str, user: User = None) -> Witness:
    """Register a witness: its vkey must be of type 0x04 (cosignature/v1,
    C2SP tlog-cosignature) and bear its name; its URL https, or http on a
    loopback address."""
    if Witness.objects.filter(name=name).exists():
        raise ValidationError(f"a witness named {name!r} is registered already")
    witness = Witness(name=name, country=country, url=url.rstrip("/"), vkey=vkey.strip())
    with transaction.atomic():
        save_with_history(witness, user=user, reason="registered")
    return witness


def witness_retire(*, witness: Witness, user: User = None) -> Witness:
    """Take a witness out of service: no more pushes, and its cosignatures
    no longer count toward the quorum nor are served."""
    with transaction.atomic():
        row = locked(Witness, witness.pk)
        if row.retired_at is not None:
            raise ValidationError(f"witness {row.name} is retired already")
        row.retired_at = timezone.now()
        save_with_history(row, user=user, reason="retired")
    return row
