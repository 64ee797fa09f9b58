"""Users and their roles: country administrators and regulators (DESIGN §7)."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django_countries import countries

from recognition.models import CountryRole, Role


def generate_password() -> str:
    return secrets.token_urlsafe(15)


@transaction.atomic
def user_create_with_role(*, username: str, role: str, country: str = "", password: str | None = None) -> tuple:
    """Create a staff user holding one role. Returns (user, password) where the
    password is the one generated, or None when it was given."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"user {username!r} already exists")
    if role == Role.COUNTRY_ADMIN:
        country = (country or "").upper()
        if country not in dict(countries):
            raise ValidationError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    generated = password is None
    password = generate_password() if generated else password
    user = User(username=username, is_staff=True)
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    CountryRole(user=user, role=role, country=country if role == Role.COUNTRY_ADMIN else "").save()
    return user, password if generated else None
