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
