"""Who made a change from the server's shell. A management command runs as
the registry operator, whose user (if any) the command does not know: the
operator's OS login is kept beside `history_user` in every history record
(simple-history's documented way to add a field to historical models: an
abstract base in `HistoricalRecords(bases=[...])`, filled in a
`pre_create_historical_record` receiver)."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_operator: ContextVar[str] = ContextVar("history_operator", default="")


class OperatorRecorded(models.Model):
    """The base of every historical model: the OS login of the operator who
    ran the command that made the change; empty for changes made on the web."""

    history_operator = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True


def history_records(**kwargs: Any) -> HistoricalRecords:
    """`HistoricalRecords` whose records keep the operator's name, and a
    change reason of any length (a person's reason after "status <to>: ")."""
    return HistoricalRecords(
        bases=[OperatorRecorded], history_change_reason_field=models.TextField(null=True), **kwargs
    )


def operator_login() -> str:
    """The OS login of the person at the server's shell, or "unknown"."""
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):  # no login name in the environment or the password database
        return "unknown"


@contextmanager
def acting_operator(name: str) -> Iterator[None]:
    """Changes made inside are recorded as made by the operator `name`."""
    token = _operator.set(name)
    try:
        yield
    finally:
        _operator.reset(token)


def current_operator() -> str:
    return _operator.get()


def _record_operator(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    if hasattr(history_instance, "history_operator"):
        history_instance.history_operator = _operator.get()


pre_create_historical_record.connect(_record_operator, dispatch_uid="core-history-operator")
