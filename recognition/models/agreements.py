"""Recognition agreements (DESIGN §3): a destination recognizes a foreign
authority for credential types, from a minimum assurance, in a window."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django_countries.fields import CountryField

from core.changes import SavedWithItsHistory
from core.history import history_records
from identity.models import Assurance, Authority, CredentialType


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class RecognitionAgreementQuerySet(models.QuerySet):
    def visible_publicly(self) -> "RecognitionAgreementQuerySet":
        return self.exclude(status=AgreementStatus.DRAFT)

    def visible_to_country(self, country: str) -> "RecognitionAgreementQuerySet":
        """What a country's administrators read (DESIGN §10): every agreement
        but other countries' drafts."""
        return self.filter(~Q(status=AgreementStatus.DRAFT) | Q(destination=country))

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
agreement_history = history_records(m2m_fields=["credential_types"])


class RecognitionAgreement(SavedWithItsHistory, models.Model):
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
    notes = models.TextField(blank=True, default="", validators=[MaxLengthValidator(10_000)])
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
        return (
            f"{self.destination.name} recognizes {self.authority.name}, {self.authority.country.name} "
            f"(agreement #{self.pk}, {self.status})"
        )
