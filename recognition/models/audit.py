"""The decisions of the audit log (DESIGN §6): one append-only row per
decision, beside its log entry (recognition/models/log.py), which holds the
same fields in the bytes the log hashes."""

import uuid

from django.db import models

from recognition.models.log import AppendOnlyModel, AppendOnlyQuerySet


class Verification(AppendOnlyModel):
    """The decision of one verification, as its log entry holds it (the id is
    the entry's): the columns the regulators' audit API filters on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        # The audit API's filters (recognition/api/filters.py): pages are
        # keyset pages on (created_at, id), so a filtered column is indexed
        # with created_at and id after it, and a page reads the value's rows
        # from the cursor on, whatever the depth; since and until are ranges
        # of the same index. On PostgreSQL a GIN index serves `reason`
        # (migration 0008). Each index is one more insert a row on the hot
        # path: no index without a filter that needs it (a test lists them).
        indexes = [
            models.Index(fields=["created_at", "id"], name="verification_created_at_id"),
            models.Index(fields=["destination", "created_at", "id"], name="verification_destination_at"),
            models.Index(fields=["origin", "created_at", "id"], name="verification_origin_at"),
            models.Index(fields=["issuer", "created_at", "id"], name="verification_issuer_at"),
            models.Index(fields=["decision", "created_at", "id"], name="verification_decision_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__in=["accepted", "rejected"]), name="verification_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.created_at:%Y-%m-%dT%H:%M:%SZ} {self.id}"
