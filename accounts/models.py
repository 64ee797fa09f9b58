"""Who may do what: the roles of staff users and the API keys of platforms
and regulators (DESIGN §7).

The tables were created by the recognition app and keep their names
(`db_table`): the models moved, the rows did not (migration 0001 of this app
and 0009 of recognition move them in Django's state only).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from core.changes import SavedWithItsHistory
from core.history import history_records


class Role(models.TextChoices):
    COUNTRY_ADMIN = "country_admin", "Country administrator"
    REGULATOR = "regulator", "Regulator"


class CountryRole(models.Model):
    """Which user administers which country, or audits all of them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="country_role")
    role = models.CharField(max_length=16, choices=Role.choices)
    country = CountryField(blank=True, help_text="The administered country; empty for a regulator.")

    class Meta:
        db_table = "recognition_countryrole"
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.COUNTRY_ADMIN) & ~Q(country="")) | (Q(role=Role.REGULATOR) & Q(country="")),
                name="countryrole_country_iff_country_admin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} {self.country.code if self.country else ''}".strip()


class KeyRole(models.TextChoices):
    PLATFORM = "platform", "Platform"
    REGULATOR = "regulator", "Regulator"


class ApiKey(AbstractAPIKey):
    """An API key of a platform or a regulator: only a prefix and a hash are
    stored (djangorestframework-api-key); its name goes on every audit row."""

    objects = BaseAPIKeyManager()
    role = models.CharField(max_length=16, choices=KeyRole.choices, default=KeyRole.PLATFORM)

    class Meta(AbstractAPIKey.Meta):
        db_table = "recognition_apikey"
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=KeyRole.values), name="apikey_role_valid"),
            models.UniqueConstraint(fields=["name"], name="apikey_name_unique"),
        ]


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"
    STALE = "stale", "Stale"


class Proposal(SavedWithItsHistory, models.Model):
    """A widening of trust proposed by a country administrator; it takes
    effect only when another administrator of the same country approves it
    (accounts.proposals). Never deleted: its history is the record of who
    proposed, approved or refused what."""

    country = CountryField(help_text="The country whose administrators decide.")
    action = models.CharField(max_length=64, help_text="What the approval will do, e.g. agreement.activate.")
    target_model = models.CharField(max_length=100, help_text="The changed row's model, e.g. identity.Authority.")
    target_id = models.PositiveBigIntegerField()
    target_version = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The target's latest history id when proposed: a change since makes it stale."
    )
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="The change itself.")
    summary = models.CharField(max_length=500)
    reason = models.TextField(validators=[MaxLengthValidator(2000)])
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals_made")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals_decided",
        help_text="Who approved, refused or withdrew it.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="", validators=[MaxLengthValidator(2000)])
    result = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="What the approval made.")
    history = history_records()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["status", "country"], name="proposal_status_country")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProposalStatus.values), name="proposal_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Proposal #{self.pk} ({self.get_status_display().lower()}): {self.summary}"
