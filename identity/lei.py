"""ISO 17442 Legal Entity Identifier: 18 alphanumerics and two ISO 7064
MOD 97-10 check digits."""

import re

from django.core.exceptions import ValidationError

_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def lei_is_valid(value: str) -> bool:
    if not _LEI.match(value):
        return False
    digits = "".join(str(int(char, 36)) for char in value)
    return int(digits) % 97 == 1


def validate_lei(value: str) -> None:
    if value and not lei_is_valid(value):
        raise ValidationError(
            "%(value)s is not a valid LEI (20 upper-case letters and digits, ISO 7064 check digits).",
            params={"value": value},
            code="invalid_lei",
        )


def lei_with_check_digits(base: str) -> str:
    """Complete an 18-character LEI prefix with its ISO 7064 MOD 97-10 check digits."""
    if not re.match(r"^[0-9A-Z]{18}$", base):
        raise ValueError(f"{base!r} is not 18 upper-case letters and digits")
    digits = "".join(str(int(char, 36)) for char in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"
