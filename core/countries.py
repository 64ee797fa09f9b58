"""The country codes the registry accepts: ISO 3166-1 alpha-2, upper case
(DESIGN §2), as django-countries lists them. One list for every check of an
input (API, TRQP, commands, accounts) and for the OpenAPI enum, so that the
schema admits exactly the codes the code accepts."""

from django_countries import countries

COUNTRY_CODES: tuple[str, ...] = tuple(sorted(code for code, _ in countries))
_KNOWN = frozenset(COUNTRY_CODES)


def is_country_code(value: object) -> bool:
    """Whether `value` is one of COUNTRY_CODES, exactly (no case folding)."""
    return isinstance(value, str) and value in _KNOWN
