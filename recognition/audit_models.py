"""The audit log of decisions (DESIGN §6): one append-only row per decision,
chained by SHA-256."""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models


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
        return super().bulk_create(objs, *args, **kwargs)

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
    hash = models.CharField(max_length=64, unique=True)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["created_at"], name="verification_created_at"),
            models.Index(fields=["destination", "seq"], name="verification_destination"),
            models.Index(fields=["issuer", "seq"], name="verification_issuer"),
        ]
        constraints = [
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
