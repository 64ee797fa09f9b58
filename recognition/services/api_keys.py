"""API keys of platforms and regulators (DESIGN §7)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from recognition.models import ApiKey, KeyRole


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
