"""Authorities, their keys, the merchants they registered and the credentials
issued through the registry (DESIGN §3)."""

from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from core.changes import SavedWithItsHistory
from core.history import history_records
from identity.jose.algorithms import Alg
from identity.lei import validate_lei


class Assurance(models.TextChoices):
    """eIDAS levels of assurance, in increasing order."""

    LOW = "low", "Low"
    SUBSTANTIAL = "substantial", "Substantial"
    HIGH = "high", "High"

    @classmethod
    def rank(cls, value: str) -> int:
        return [choice.value for choice in cls].index(value)


class AuthorityStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


class KeyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"
    COMPROMISED = "compromised", "Compromised"


class MerchantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


class CredentialStatus(models.TextChoices):
    VALID = "valid", "Valid"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Authority(SavedWithItsHistory, models.Model):
    country = CountryField()
    name = models.CharField(max_length=200)
    issuer = models.CharField(
        max_length=500,
        unique=True,
        help_text="The JWT 'iss' of its credentials: a URL or a DID.",
        validators=[RegexValidator(r"^(https://|did:)\S+$", "An issuer is an https URL or a DID, without spaces.")],
    )
    status = models.CharField(max_length=16, choices=AuthorityStatus.choices, default=AuthorityStatus.ACTIVE)
    max_assurance = models.CharField(
        max_length=16,
        choices=Assurance.choices,
        default=Assurance.HIGH,
        help_text="The highest level of assurance the authority is accredited to issue.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        verbose_name_plural = "authorities"
        ordering = ["country", "name"]
        constraints = [
            _choices_check("status", AuthorityStatus, "authority_status_valid"),
            _choices_check("max_assurance", Assurance, "authority_max_assurance_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"


class AuthorityKey(SavedWithItsHistory, models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="keys")
    kid = models.CharField(max_length=200, help_text="Default: the RFC 7638 JWK thumbprint.")
    alg = models.CharField(max_length=8, choices=Alg.choices)
    public_jwk = models.JSONField(help_text="Public members only; private keys never enter the registry.")
    status = models.CharField(max_length=16, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    not_before = models.DateTimeField(help_text="Credentials issued before this instant are refused.")
    not_after = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    compromised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = history_records()

    class Meta:
        ordering = ["authority", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "kid"], name="authoritykey_kid_unique_per_authority"),
            _choices_check("status", KeyStatus, "authoritykey_status_valid"),
            _choices_check("alg", Alg, "authoritykey_alg_valid"),
            models.CheckConstraint(
                condition=Q(not_after__isnull=True) | Q(not_after__gt=models.F("not_before")),
                name="authoritykey_not_before_before_not_after",
            ),
            models.CheckConstraint(
                condition=~Q(status=KeyStatus.RETIRED) | Q(retired_at__isnull=False),
                name="authoritykey_retired_has_retired_at",
            ),
            models.CheckConstraint(
                condition=~Q(status=KeyStatus.COMPROMISED) | Q(compromised_at__isnull=False),
                name="authoritykey_compromised_has_compromised_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.alg}, {self.status})"


class Merchant(SavedWithItsHistory, models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="merchants")
    registration_number = models.CharField(
        max_length=100,
        validators=[RegexValidator(r"^\S(.*\S)?$", "A registration number has no leading or trailing spaces.")],
    )
    legal_name = models.CharField(max_length=300)
    lei = models.CharField(
        "LEI", max_length=20, blank=True, default="", validators=[validate_lei], help_text="ISO 17442, optional."
    )
    status = models.CharField(max_length=16, choices=MerchantStatus.choices, default=MerchantStatus.ACTIVE)
    assurance = models.CharField(max_length=16, choices=Assurance.choices, default=Assurance.SUBSTANTIAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["authority", "registration_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "registration_number"], name="merchant_registration_number_unique_per_authority"
            ),
            _choices_check("status", MerchantStatus, "merchant_status_valid"),
            _choices_check("assurance", Assurance, "merchant_assurance_valid"),
        ]
        indexes = [
            # Status lists and merchant-status lists read the merchants that are not active.
            models.Index(fields=["authority"], condition=~Q(status="active"), name="merchant_not_active"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.registration_number})"


class CredentialType(SavedWithItsHistory, models.Model):
    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", validators=[MaxLengthValidator(10_000)])
    history = history_records()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class StatusList(models.Model):
    """A Token Status List (draft-ietf-oauth-status-list-20) of the registry's
    credentials: `size` entries, each credential at an index drawn at random
    when it is issued (identity.services.status_lists). One list is open at a
    time; a full one is closed and the next opened. `version` changes in the
    same transaction as anything that changes the list's bytes (database
    triggers, migration 0004), so a served list can be cached per version."""

    number = models.PositiveIntegerField(unique=True, help_text="The n of /api/v1/status-lists/<n>/.")
    size = models.PositiveIntegerField(help_text="Entries (2 bits each).")
    created_at = models.DateTimeField()
    closed = models.BooleanField(default=False, help_text="Full: no index is drawn from it any more.")
    version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gt=0), name="statuslist_number_positive"),
            models.CheckConstraint(condition=Q(size__gt=0), name="statuslist_size_positive"),
            models.UniqueConstraint(fields=["closed"], condition=Q(closed=False), name="statuslist_one_open"),
        ]

    def __str__(self) -> str:
        return f"status list {self.number}"


class IssuedCredential(SavedWithItsHistory, models.Model):
    jti = models.CharField(max_length=200)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="credentials")
    key = models.ForeignKey(AuthorityKey, on_delete=models.PROTECT, related_name="credentials")
    credential_type = models.ForeignKey(CredentialType, on_delete=models.PROTECT, related_name="credentials")
    assurance = models.CharField(max_length=16, choices=Assurance.choices)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=CredentialStatus.choices, default=CredentialStatus.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="", help_text="Why it was revoked.")
    # Its entry in a status list; none for credentials issued before status
    # lists existed (their tokens carry no `status` claim).
    status_list = models.ForeignKey(
        StatusList,
        on_delete=models.PROTECT,
        related_name="credentials",
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # the unique (status_list, status_index) index serves
    )
    status_index = models.PositiveIntegerField(null=True, blank=True, editable=False)
    history = history_records()

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            # The verification looks a credential up by (authority, jti); the
            # merchant fixes the authority, so jti is unique per merchant's
            # authority. Enforced globally, which is stricter and simpler.
            models.UniqueConstraint(fields=["jti"], name="issuedcredential_jti_unique"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")), name="issuedcredential_expires_after_issued"
            ),
            _choices_check("status", CredentialStatus, "issuedcredential_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=CredentialStatus.REVOKED) | Q(revoked_at__isnull=False),
                name="issuedcredential_revoked_has_revoked_at",
            ),
            # An index is never shared and never reused (credentials are never deleted).
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="issuedcredential_status_index_unique"
            ),
            models.CheckConstraint(
                condition=Q(status_list__isnull=True, status_index__isnull=True)
                | Q(status_list__isnull=False, status_index__isnull=False),
                name="issuedcredential_status_list_and_index_together",
            ),
        ]
        indexes = [
            # The build of a list reads its entries that are not valid.
            models.Index(
                fields=["status_list", "status_index"],
                condition=~Q(status="valid"),
                name="issuedcred_list_not_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.jti
