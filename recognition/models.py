"""Recognition agreements and who administers which country (DESIGN §3)."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager
from simple_history.models import HistoricalRecords

from identity.models import Assurance, Authority, CredentialType
from recognition.audit_models import AppendOnlyError, Verification
from recognition.trust_models import RegistryKey, TrustListState

# The audit log and the trust-list state live in their own modules.
__all__ = ["AppendOnlyError", "RegistryKey", "TrustListState", "Verification"]


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class RecognitionAgreementQuerySet(models.QuerySet):
    def in_force(self, *, destination: str, at: datetime) -> "RecognitionAgreementQuerySet":
        """Active agreements of `destination` whose window contains `at`
        (valid_from inclusive, valid_until exclusive)."""
        return self.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            destination=destination,
            status=AgreementStatus.ACTIVE,
            valid_from__lte=at,
        )

    def visible_publicly(self) -> "RecognitionAgreementQuerySet":
        return self.exclude(status=AgreementStatus.DRAFT)

    def with_reciprocal(self, name: str = "reciprocal") -> "RecognitionAgreementQuerySet":
        """Annotate whether an agreement the other way exists: the origin
        recognizing an authority of the destination, active or suspended (a
        draft is only a proposal and a terminated agreement is over)."""
        other_way = RecognitionAgreement.objects.filter(
            destination=OuterRef("origin"),
            origin=OuterRef("destination"),
            status__in=[AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED],
        )
        return self.annotate(**{name: Exists(other_way)})


# Kept as a name so that services can write the single "created" history row
# after the many-to-many credential types are set (simple-history copies them
# at save time).
agreement_history = HistoricalRecords(m2m_fields=["credential_types"])


class RecognitionAgreement(models.Model):
    destination = CountryField(help_text="The recognizing country.")
    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        related_name="recognitions",
        help_text="The recognized foreign authority.",
    )
    # The authority's country, copied at creation (an authority's country never
    # changes), so that the database itself refuses a domestic "agreement".
    origin = CountryField(editable=False)
    credential_types = models.ManyToManyField(CredentialType, related_name="agreements")
    min_assurance = models.CharField(max_length=16, choices=Assurance.choices, default=Assurance.SUBSTANTIAL)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    legal_basis = models.CharField(
        max_length=500, blank=True, default="", help_text="Required before activation, e.g. a bilateral memorandum."
    )
    reference_url = models.URLField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = agreement_history

    objects = RecognitionAgreementQuerySet.as_manager()

    class Meta:
        ordering = ["destination", "origin", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_from__lt=models.F("valid_until")),
                name="agreement_valid_from_before_valid_until",
            ),
            models.CheckConstraint(
                condition=~Q(destination=models.F("origin")), name="agreement_destination_differs_from_origin"
            ),
            models.CheckConstraint(condition=Q(status__in=AgreementStatus.values), name="agreement_status_valid"),
            models.CheckConstraint(
                condition=Q(min_assurance__in=Assurance.values), name="agreement_min_assurance_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=AgreementStatus.DRAFT) | ~Q(legal_basis=""),
                name="agreement_legal_basis_before_activation",
            ),
        ]
        indexes = [models.Index(fields=["destination", "authority", "status"], name="agreement_lookup")]

    def __str__(self) -> str:
        return f"{self.destination.code} recognizes {self.authority.issuer} (#{self.pk}, {self.status})"


class Role(models.TextChoices):
    COUNTRY_ADMIN = "country_admin", "Country administrator"
    REGULATOR = "regulator", "Regulator"


class CountryRole(models.Model):
    """Which user administers which country, or audits all of them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="country_role")
    role = models.CharField(max_length=16, choices=Role.choices)
    country = CountryField(blank=True, help_text="The administered country; empty for a regulator.")

    class Meta:
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
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=KeyRole.values), name="apikey_role_valid"),
            models.UniqueConstraint(fields=["name"], name="apikey_name_unique"),
        ]
