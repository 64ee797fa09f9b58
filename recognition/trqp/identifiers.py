"""TRQP identifiers (DESIGN §9): what an `entity_id` or an `authority_id`
may look like, and which country an `authority_id` names.

An `authority_id` is a country code (`CN`), or its alias
`did:web:<registry host>:<country code, lower case>`: the registry's host is
that of REGISTRY_ISSUER, and a port is part of it with its `:` written `%3A`
(did:web method specification, "Create (Register)"). Verifiers of the Trust
over IP ecosystem address ecosystems by DID, so the alias lets them ask about a
country without knowing this registry's own vocabulary.

A *well-formed* identifier is a DID (W3C DID Core §3.1, `did:<method>:<id>`,
no path, query or fragment) or an https URL with a host. One the registry
does not know is a 404 (DESIGN §9 "Unknown entity"); anything else is a
malformed request, a 400.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings

from core.countries import is_country_code

# W3C DID Core §3.1: did = "did:" method-name ":" method-specific-id;
# method-char = %x61-7A / DIGIT; idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded;
# method-specific-id = *( *idchar ":" ) 1*idchar.
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
DID_PATTERN = rf"^did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+$"
# An https URL as is_https_url accepts it, written so that a JSON Schema
# (ECMA-262) pattern admits exactly the same: printable ASCII, a host of
# letters, digits, dots and hyphens, a port of at most four digits.
HTTPS_URL_PATTERN = r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:[/?#][!-~]*)?$"
_DID = re.compile(DID_PATTERN, re.ASCII)
_HTTPS_URL = re.compile(HTTPS_URL_PATTERN, re.ASCII)


class UnknownAuthority(LookupError):
    """A well-formed `authority_id` that names no country here."""


def is_did(value: str) -> bool:
    return _DID.fullmatch(value) is not None


def is_https_url(value: str) -> bool:
    return _HTTPS_URL.fullmatch(value) is not None


def is_identifier(value: str) -> bool:
    """A DID or an https URL: well-formed, whether the registry knows it or not."""
    return is_did(value) or is_https_url(value)


def _did_web_prefix() -> str | None:
    """`did:web:<host>[%3A<port>]:` of REGISTRY_ISSUER, or None when it has no host."""
    try:
        parts = urlsplit(settings.REGISTRY["ISSUER"])
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or ":" in host:  # did:web has no form for an IPv6 literal
        return None
    return f"did:web:{host}" + (f"%3A{port}" if port is not None else "") + ":"


def country_alias(country: str) -> str | None:
    """The did:web alias of a country's `authority_id`, or None when REGISTRY_ISSUER has no host."""
    prefix = _did_web_prefix()
    return f"{prefix}{country.lower()}" if prefix else None


def country_of(authority_id: str) -> str:
    """The country an `authority_id` names: itself when a country code, the
    country of its alias; raises UnknownAuthority for any other identifier.

    The host is compared without regard to case (DNS names are
    case-insensitive) and `%3a` is `%3A` (RFC 3986 §2.1); the country code of
    the alias is lower case only, as the registry publishes it."""
    if is_country_code(authority_id):
        return authority_id
    prefix = _did_web_prefix()
    if prefix and authority_id.startswith("did:web:") and authority_id[: len(prefix)].lower() == prefix.lower():
        code = authority_id[len(prefix) :]
        if code.islower() and is_country_code(code.upper()):
            return code.upper()
    raise UnknownAuthority(
        f"no country of this registry has the authority_id {authority_id[:200]!r}: give a country code (CN) "
        f"or its alias, as GET /trqp/metadata lists them"
    )
