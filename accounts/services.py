"""Users and their roles (country administrators and regulators), and the API
keys of platforms and regulators (DESIGN §7)."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import ApiKey, CountryRole, KeyRole, Role
from core.countries import is_country_code


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
        if not is_country_code(country):
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


@transaction.atomic
def api_key_create(*, name: str, role: str = KeyRole.PLATFORM) -> tuple[ApiKey, str]:
    """Create a key; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not name:
        raise ValidationError("an API key needs a name (it is written on every audit row)")
    limit = ApiKey._meta.get_field("name").max_length
    if len(name) > limit:
        raise ValidationError(f"an API key name is at most {limit} characters")
    if role not in KeyRole.values:
        raise ValidationError(f"role must be one of {', '.join(KeyRole.values)}, not {role!r}")
    if ApiKey.objects.filter(name=name).exists():
        raise ValidationError(f"an API key named {name!r} already exists")
    return ApiKey.objects.create_key(name=name, role=role)
