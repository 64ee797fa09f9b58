"""`Authorization: Api-Key <key>` for platforms and regulators (DESIGN §7).

The keyword is matched case-insensitively (RFC 9110 §11.1: the scheme is
case-insensitive). Another scheme (`Bearer ...`) is not ours: the request is
then unauthenticated, and a view that needs a key answers 401.
"""

import re
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey

# Keys are "<prefix>.<secret>" of letters and digits; anything outside
# printable ASCII, or absurdly long, is refused before the database sees it
# (PostgreSQL refuses a NUL in a query parameter).
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,200}")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """The authenticated "user" is anonymous; `request.auth` is the ApiKey."""

    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("the Api-Key header carries no key")
        if not _KEY_SHAPE.fullmatch(key):
            raise exceptions.AuthenticationFailed("unknown or revoked API key")
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("unknown or revoked API key") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("the API key has expired")
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the Api-Key header."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; `manage.py create_api_key NAME --role platform|regulator` makes one.",
        }
