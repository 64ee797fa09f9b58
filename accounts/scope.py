"""Who may see and change what (DESIGN §7): the rights of one user, read from
their `CountryRole` alone (country administrators and regulators are staff
users without Django model permissions).

- superuser: everything, except deleting (nothing of the registry is deleted);
- country administrator of X: manages X's rows, views foreign authorities;
- regulator: views everything, changes nothing;
- any other staff user: nothing.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from accounts.models import Role

SUPERUSER = "superuser"


@dataclass(frozen=True)
class Scope:
    """The admin rights of one user."""

    role: str | None
    country: str = ""

    @property
    def reads_everything(self) -> bool:
        return self.role in (SUPERUSER, Role.REGULATOR)

    @property
    def writes(self) -> bool:
        return self.role in (SUPERUSER, Role.COUNTRY_ADMIN)

    @property
    def is_superuser(self) -> bool:
        return self.role == SUPERUSER

    def owns(self, country: object) -> bool:
        """May this user change rows belonging to `country`?"""
        if self.is_superuser:
            return True
        return self.role == Role.COUNTRY_ADMIN and country_code(country) == self.country


def country_code(value: object) -> str:
    """The code of a `Country` or of a plain string."""
    return str(getattr(value, "code", value) or "")


def scope_of(user: Any) -> Scope:
    if user is None or not user.is_active:
        return Scope(role=None)
    if user.is_superuser:
        return Scope(role=SUPERUSER)
    if not user.is_staff:
        return Scope(role=None)
    try:
        country_role = user.country_role
    except ObjectDoesNotExist:
        return Scope(role=None)
    if country_role.role == Role.COUNTRY_ADMIN and country_role.country:
        return Scope(role=Role.COUNTRY_ADMIN, country=country_role.country.code)
    if country_role.role == Role.REGULATOR:
        return Scope(role=Role.REGULATOR)
    return Scope(role=None)


def role_of(user: Any) -> str | None:
    """'superuser', 'country_admin', 'regulator' or None."""
    return scope_of(user).role


def is_regulator(user: Any) -> bool:
    return role_of(user) == Role.REGULATOR


def admin_country(user: Any) -> str | None:
    """The country a country administrator administers; None for anyone else."""
    return scope_of(user).country or None


def what_the_role_allows(scope: Scope) -> str:
    """One sentence a refusal shows: what this user may do (DESIGN §7)."""
    if scope.is_superuser:
        return "You are a superuser: you change every country's rows, through the services; nothing is deleted."
    if scope.role == Role.REGULATOR:
        return "Regulators read everything and change nothing."
    if scope.role == Role.COUNTRY_ADMIN:
        return (
            f"You administer {scope.country}: you change {scope.country}'s rows only; foreign authorities, "
            "their keys and other countries' public agreements you view read-only."
        )
    return "Your account has no role in the registry: a superuser gives you one (create_country_admin)."
