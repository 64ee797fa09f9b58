"""Witnesses as the rest of the registry sees them (DESIGN §11): the keys of
the active ones, each witness's status for regulators, and the pusher's
background thread (recognition/log/pusher.py does the pushing).

The pusher runs beside the integrator (AUDIT_INTEGRATOR=thread: in every web
process; `manage.py integrate_audit_log` otherwise), in its own thread: it
takes neither the integrator's lock nor a request's time, so a slow or dead
witness delays no verification and no checkpoint.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connection

from recognition.log.pusher import Pusher
from recognition.models import Cosignature, Witness, WitnessEvent, WitnessOutcome

logger = logging.getLogger(__name__)


def active_vkeys() -> list[str]:
    """The vkeys (type 0x04) of the active witnesses, by name."""
    return list(Witness.objects.active().order_by("name").values_list("vkey", flat=True))


@dataclass(frozen=True)
class WitnessStatus:
    witness: Witness
    last_cosignature: Cosignature | None
    last_refusal: WitnessEvent | None
    split_view: WitnessEvent | None  # the latest split view it showed; it stays shown


def witness_status(witness: Witness) -> WitnessStatus:
    cosigned = Cosignature.objects.filter(witness=witness).select_related("checkpoint")
    events = WitnessEvent.objects.filter(witness=witness).order_by("-created_at", "-id")
    return WitnessStatus(
        witness=witness,
        last_cosignature=cosigned.order_by("-checkpoint__size").first(),
        last_refusal=events.first(),
        split_view=events.filter(outcome=WitnessOutcome.SPLIT_VIEW).first(),
    )


def witness_statuses() -> list[WitnessStatus]:
    """Every witness, active and retired, with its status (a few queries a
    witness: witnesses are a handful, partners' servers)."""
    return [witness_status(witness) for witness in Witness.objects.order_by("name")]


# Any constant: the key of the PostgreSQL advisory lock of the pushing process.
_PUSHER_LOCK = 0x5749544E
_held = threading.local()  # .by: the database connection of this thread that holds it


def leads() -> bool:
    """Whether this process's pusher is the one that pushes. On PostgreSQL
    one process at a time does: the one whose pusher connection holds a
    session advisory lock, released when that connection closes or its
    process dies, and then taken by another pusher at its next round. Every
    web process pushing each checkpoint to each witness was harmless (a
    cosignature is kept once) but multiplied the pushes, their proofs and the
    witnesses' answers by the number of processes. SQLite (development):
    every process pushes."""
    if connection.vendor != "postgresql":
        return True
    connection.ensure_connection()
    if getattr(_held, "by", None) is connection.connection:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_PUSHER_LOCK])
        got = bool(cursor.fetchone()[0])
    _held.by = connection.connection if got else None
    return got


def run(stop: threading.Event, *, poll: float | None = None) -> None:
    """Push new checkpoints to the witnesses until `stop` is set. An error (a
    database restarting) is logged and the round retried."""
    poll = poll if poll is not None else min(0.25, settings.AUDIT_LOG["CHECKPOINT_SECONDS"] / 4)
    pusher = Pusher()
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                if leads():
                    pusher.round()
            except Exception:
                logger.exception("the witness pusher failed; retrying")
                connection.close()
                stop.wait(1.0)
                continue
            stop.wait(poll)
    finally:
        pusher.close()
        connection.close()


_thread: threading.Thread | None = None
_stop = threading.Event()


def start_in_background(*, force: bool = False) -> threading.Thread | None:
    """The pusher in a daemon thread of this process, where the integrator
    runs (AUDIT_INTEGRATOR=thread, or `force` from integrate_audit_log)."""
    global _thread
    if not force and settings.AUDIT_LOG["INTEGRATOR"] != "thread":
        return None
    if _thread is not None and _thread.is_alive():
        return _thread
    _thread = threading.Thread(target=run, args=(_stop,), name="audit-log-witness-pusher", daemon=True)
    _thread.start()
    return _thread


def since(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant is not None else None
