"""Witnesses (DESIGN §11): the partners' servers that cosign the log's
checkpoints, the cosignatures they gave, and what went wrong when they gave
none.

A Witness is a registry rule like an agreement: it has history, and every
change is a change entry of the log. Cosignatures and witness events are
append-only records of what happened, like checkpoints.
"""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from core.changes import SavedWithItsHistory
from core.history import history_records
from recognition.log.notes import COSIGNATURE_V1, NoteError, parse_vkey
from recognition.models.log import AppendOnlyModel, AppendOnlyQuerySet, Checkpoint


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_witness_url(url: str) -> None:
    """https, or http on a loopback address only (a witness on this machine):
    a checkpoint sent in clear text over a network could be withheld or
    replaced unnoticed, and the witness's answer too."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ValidationError(f"{url!r} is not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError("a witness URL is https://host[:port][/path]")
    if parts.scheme == "http" and not _loopback(host):
        raise ValidationError("a witness URL is https, or http on a loopback address only (127.0.0.1, ::1, localhost)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError("a witness URL has no query, fragment or credentials")


class WitnessQuerySet(models.QuerySet):
    def active(self) -> "WitnessQuerySet":
        return self.filter(retired_at__isnull=True)


class Witness(SavedWithItsHistory, models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="The key name of its vkey.")
    country = CountryField(help_text="The partner country that runs it.")
    url = models.CharField(
        max_length=500,
        validators=[validate_witness_url],
        help_text="The registry POSTs to <URL>/add-checkpoint (C2SP tlog-witness).",
    )
    vkey = models.CharField(
        max_length=300, help_text="Its signed-note verifier key, type 0x04 (cosignature/v1): <name>+<key ID>+<key>."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="Out of service since (no longer counted).")
    history = history_records()

    objects = WitnessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "witnesses"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"), name="witness_url_http"
            ),
            models.CheckConstraint(condition=~Q(vkey=""), name="witness_vkey_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code}{', retired' if self.retired_at else ''})"

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def clean(self) -> None:
        try:
            verifier = parse_vkey(self.vkey)
        except NoteError as exc:
            raise ValidationError({"vkey": f"not a signed-note vkey: {exc}"}) from None
        if verifier.sig_type != COSIGNATURE_V1:
            raise ValidationError(
                {"vkey": f"a witness key is of type 0x04 (cosignature/v1), not 0x{verifier.sig_type:02x}"}
            )
        if verifier.name != self.name:
            raise ValidationError({"name": f"the name is the vkey's key name, {verifier.name!r}"})

    def verifier(self) -> Any:
        return parse_vkey(self.vkey)


class Cosignature(AppendOnlyModel):
    """A witness's cosignature/v1 line on a checkpoint, verified before it
    was stored, kept exactly as the witness sent it."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.TextField(help_text="The signature line, with its newline, exactly as received.")
    timestamp = models.BigIntegerField(help_text="The POSIX time the cosignature states.")
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["checkpoint", "witness"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="cosignature_one_per_witness"),
            models.CheckConstraint(condition=Q(timestamp__gte=0), name="cosignature_timestamp_not_negative"),
        ]

    def __str__(self) -> str:
        return f"cosignature of {self.witness_id} on {self.checkpoint_id}"


class WitnessOutcome(models.TextChoices):
    REFUSED = "refused", "Refused (HTTP error)"
    UNREACHABLE = "unreachable", "Unreachable or timed out"
    BAD_COSIGNATURE = "bad_cosignature", "Answered a cosignature that does not verify"
    SPLIT_VIEW = "split_view", "Split view: it cosigned a history this log does not have"


class WitnessEvent(AppendOnlyModel):
    """A push that got no cosignature, and why; never skipped silently."""

    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="events")
    size = models.BigIntegerField(help_text="The size of the checkpoint pushed.")
    outcome = models.CharField(max_length=16, choices=WitnessOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    witness_size = models.BigIntegerField(null=True, blank=True, help_text="The size the witness said it holds.")
    reason = models.TextField()
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["witness", "-created_at"], name="witnessevent_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=WitnessOutcome.values), name="witnessevent_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} at size {self.size}"
