"""The transparency log (DESIGN §6): its entries (the leaves), the hash tiles
that store the tree, the checkpoints signed over it, the state the
integrator keeps, and the public halves of the log's keys.

Append-only, in the application and (migration 0010) in PostgreSQL: an entry
is never changed but for the one update the integrator makes, giving `seq`
to an entry that has none; a checkpoint is never changed; a tile only grows,
by hashes appended to it.
"""

import functools
import uuid
from typing import Any

from django.db import models
from django.db.models import Q, signals
from django.db.models.base import ModelState


@functools.cache
def _attnames(model: type[models.Model]) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete a row of the audit log."""


class AppendOnlyQuerySet(models.QuerySet):
    what = "audit rows"

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.what} are append-only; they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.what} are append-only; they cannot be deleted")

    def bulk_create(self, objs: Any, *args: Any, update_conflicts: bool = False, **kwargs: Any) -> list:
        # An upsert (INSERT ... ON CONFLICT DO UPDATE) rewrites existing rows.
        if update_conflicts:
            raise AppendOnlyError(f"{self.what} are append-only; they cannot be upserted")
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnlyModel(models.Model):
    """A row that is inserted once and never saved again through the ORM."""

    class Meta:
        abstract = True

    def save(
        self,
        *,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: object = None,
    ) -> None:
        # A new instance that carries an existing row's primary key would,
        # with force_update or update_fields, UPDATE that row: only a plain
        # INSERT of a new row is allowed.
        if not self._state.adding or force_update or update_fields is not None:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be updated")
        super().save(force_insert=True, using=using)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be deleted")

    @classmethod
    def unsaved(cls, values: dict[str, Any]) -> Any:
        """A new, unsaved row from the value of every field (by attname), as
        cls(**values) builds it, without Model.__init__'s work for each
        field: no field of these models has a descriptor that runs on
        assignment, and nothing listens to their init signals (if something
        does, Model.__init__ builds it). Every decision builds two; a test
        compares both ways."""
        if values.keys() != _attnames(cls):
            raise TypeError(f"a {cls.__name__} needs exactly the fields {sorted(_attnames(cls))}")
        if signals.pre_init.has_listeners(cls) or signals.post_init.has_listeners(cls):
            return cls(**values)
        row = cls.__new__(cls)
        row.__dict__.update(values)
        row._state = ModelState()
        return row


class EntryKind(models.TextChoices):
    DECISION = "decision", "Decision"
    CHANGE = "change", "Registry change"


class LogEntry(AppendOnlyModel):
    """One leaf: the exact bytes of an entry (canonical JSON, recognition/log/
    entries.py) and SHA-256(0x00 || bytes). `seq`, the leaf index, is given
    by the integrator once the entry is committed; until then it is null."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    created_at = models.DateTimeField()
    body = models.BinaryField()
    leaf_hash = models.BinaryField()
    seq = models.BigIntegerField(null=True, blank=True, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"
        indexes = [
            # What the integrator looks for, and /healthz's oldest waiting entry.
            models.Index(fields=["created_at"], name="logentry_pending", condition=Q(seq__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=0), name="logentry_seq_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="logentry_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} (leaf {self.seq if self.seq is not None else 'pending'})"


class ChangeRecord(AppendOnlyModel):
    """Which entry holds a history record: (model, history id) -> the change
    entry written with it, in the same transaction. Dispute evidence finds the
    entries of an agreement version and of a key through it in one indexed
    read; without it, the only way from a history record to its entry would be
    to read every entry's bytes. Append-only like the entries it points to."""

    model = models.CharField(max_length=100, help_text="The tracked model, e.g. identity.authoritykey.")
    history_id = models.BigIntegerField()
    # No database constraint: an entry deleted behind the application's back
    # must stay a finding of verify_audit_log, not an error of the deletion.
    entry = models.OneToOneField(LogEntry, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "history_id"], name="changerecord_one_per_record")]

    def __str__(self) -> str:
        return f"{self.model} history {self.history_id} -> entry {self.entry_id}"


class LogTile(models.Model):
    """A C2SP tlog-tiles hash tile, as far as the tree has grown: the hashes
    at tile level `level` (binary level 8 x level), index `index`, up to 256
    of them. Proofs for any checkpointed size read a prefix of it."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="logtile_one_per_position"),
            models.CheckConstraint(condition=Q(index__gte=0, level__lte=63), name="logtile_position_valid"),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({len(self.hashes) // 32} hashes)"


class LogState(models.Model):
    """The one row of the integrator's progress: how many leaves the tiles
    hold and their root. Changed only by the integrator, under its lock."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="logstate_one_row")]

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class Checkpoint(AppendOnlyModel):
    """A signed checkpoint (C2SP tlog-checkpoint): every size for which one
    was signed stays available for proofs."""

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField()
    note = models.TextField(help_text="The signed note, exactly as served.")
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["size"]
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="checkpoint_size_not_negative")]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LogPublicKey(models.Model):
    """The public half of a key the log signed with (the private half lives
    only in the file AUDIT_LOG_KEY names). Retired keys stay listed: old
    checkpoints are signed with them."""

    name = models.CharField(max_length=200, help_text="The signed-note key name: the log's origin.")
    public_key = models.BinaryField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["name", "public_key"], name="logpublickey_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({'retired' if self.retired_at else 'current'})"
