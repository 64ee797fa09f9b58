"""The audit log of decisions (DESIGN §6): one append-only row per decision,
chained by SHA-256."""

import functools
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import signals
from django.db.models.base import ModelState

from recognition.db import insert_rows


@functools.cache
def _attnames(model: type[models.Model]) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit row."""


class VerificationQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ANN003, ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be updated")

    def bulk_create(
        self, objs: Iterable["Verification"], *args: Any, update_conflicts: bool = False, **kwargs: Any
    ) -> list["Verification"]:
        # An upsert (INSERT ... ON CONFLICT DO UPDATE) rewrites existing rows.
        if update_conflicts:
            raise AppendOnlyError("audit rows are append-only; they cannot be upserted")
        objs = list(objs)
        if args or kwargs or not objs or any(obj.pk is None for obj in objs):
            return super().bulk_create(objs, *args, **kwargs)
        return insert_rows(self.model, objs, using=self.db)

    def delete(self):  # noqa: ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be deleted")


class Verification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    client = models.CharField(max_length=150)
    destination = models.CharField(max_length=2)
    origin = models.CharField(max_length=2, blank=True, default="")
    declared_origin = models.CharField(max_length=2, blank=True, default="")
    issuer = models.CharField(max_length=500, blank=True, default="")
    kid = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    jti = models.CharField(max_length=200, blank=True, default="")
    token_sha256 = models.CharField(max_length=64)
    decision = models.CharField(max_length=8, choices=[("accepted", "accepted"), ("rejected", "rejected")])
    reasons = models.JSONField(default=list)
    agreement = models.ForeignKey(
        "recognition.RecognitionAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    agreement_version = models.BigIntegerField(
        null=True, blank=True, help_text="history_id of the agreement version that was applied"
    )
    prev_hash = models.CharField(max_length=64)
    # Unique by a constraint, not unique=True: on PostgreSQL the latter also
    # builds a LIKE index that nothing reads and every append pays for.
    hash = models.CharField(max_length=64)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        # The audit API's filters (recognition/api/filters.py): pages are
        # `seq > cursor ORDER BY seq`, so a filtered column is indexed with
        # seq after it, and a page reads the value's rows from the cursor on,
        # whatever the depth. created_at with seq: since/until become seq
        # bounds by one probe (created_at never decreases along the chain).
        # On PostgreSQL a GIN index serves `reason` (migration 0008). Each
        # index is one more insert a row on the hot path: no index without a
        # filter that needs it (a test lists them, so that none is added unseen).
        indexes = [
            models.Index(fields=["created_at", "seq"], name="verification_created_at_seq"),
            models.Index(fields=["destination", "seq"], name="verification_destination"),
            models.Index(fields=["origin", "seq"], name="verification_origin"),
            models.Index(fields=["issuer", "seq"], name="verification_issuer"),
            models.Index(fields=["decision", "seq"], name="verification_decision"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["hash"], name="verification_hash_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="verification_seq_positive"),
            models.CheckConstraint(
                condition=models.Q(decision__in=["accepted", "rejected"]), name="verification_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.decision}"

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
            raise AppendOnlyError("audit rows are append-only; they cannot be updated")
        super().save(force_insert=True, using=using)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise AppendOnlyError("audit rows are append-only; they cannot be deleted")

    @classmethod
    def unsaved(cls, values: dict[str, Any]) -> "Verification":
        """A new, unsaved row from the value of every field (by attname), as
        Verification(**values) builds it, without Model.__init__'s work for
        each field: no field of this model has a descriptor that runs on
        assignment, and nothing listens to its init signals (if something
        does, Model.__init__ builds it). Every decision builds one; a test
        compares both."""
        if values.keys() != _attnames(cls):
            raise TypeError(f"a {cls.__name__} needs exactly the fields {sorted(_attnames(cls))}")
        if signals.pre_init.has_listeners(cls) or signals.post_init.has_listeners(cls):
            return cls(**values)
        row = cls.__new__(cls)
        row.__dict__.update(values)
        row._state = ModelState()
        return row
