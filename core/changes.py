"""Writing one row of the registry: validated, locked while its state
changes, and saved with who changed it and why (simple-history).

Every service of every app writes through these, so that a rule about
writing (full_clean before save, the acting user in history, a status moving
only along its allowed transitions) exists once.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction

User = AbstractBaseUser | None


class SavedWithItsHistory:
    """A model mixin: saving a row is one transaction with what its post_save
    receivers write, its history record and the audit log's change entry
    (DESIGN §6), even for a caller without a transaction of its own (Django
    commits the row before post_save). A receiver that refuses (an entry too
    large for the log) takes the row back with it."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)  # type: ignore[misc]  # the model class after it in the MRO


def with_reason(label: str, reason: str = "") -> str:
    """A history change reason: what happened, then the person's why
    ("status suspended: key leaked")."""
    reason = " ".join((reason or "").split())
    return f"{label}: {reason}" if reason else label


def save_with_history(instance: models.Model, *, user: User, reason: str = "") -> None:
    """Validate and save one row, recording who changed it and why."""
    instance.full_clean()
    instance._history_user = user
    if reason:
        instance._change_reason = reason
    instance.save()


def locked(model: type[models.Model], pk: int) -> Any:
    """The row, locked until the end of the caller's transaction
    (SELECT ... FOR UPDATE): two changes of one row never interleave."""
    return model.objects.select_for_update().get(pk=pk)


def transition(instance: models.Model, *, to: str, allowed: dict[str, set[str]], what: str) -> None:
    """Move `instance.status` to `to` if `allowed` lets it go there from its
    current status; otherwise a ValidationError naming `what`."""
    current = instance.status
    if to == current:
        raise ValidationError(f"{what} is already {current}")
    if to not in allowed.get(current, set()):
        raise ValidationError(f"{what} cannot go from {current} to {to}")
    instance.status = to


def change_status(
    model: type[models.Model],
    pk: int,
    *,
    to: str,
    allowed: dict[str, set[str]],
    what: Callable[[Any], str],
    user: User,
    check: Callable[[Any], None] | None = None,
    reason: str = "",
) -> Any:
    """Lock the row, move its status along `allowed` (`what(row)` names it in
    a refusal), run `check` on the moved row, and save it with history; the
    change reason is "status <to>", then the person's `reason` if given."""
    row = locked(model, pk)
    transition(row, to=to, allowed=allowed, what=what(row))
    if check is not None:
        check(row)
    save_with_history(row, user=user, reason=with_reason(f"status {to}", reason))
    return row


def integrity_error_message(exc: IntegrityError) -> str:
    """A short message for a constraint the database enforced."""
    return f"the database refused the change: {str(exc).splitlines()[0]}"
