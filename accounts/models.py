"""Who may do what: the roles of staff users and the API keys of platforms
and regulators (DESIGN §7).

The tables were created by the recognition app and keep their names
(`db_table`): the models moved, the rows did not (migration 0001 of this app
and 0009 of recognition move them in Django's state only).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


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
