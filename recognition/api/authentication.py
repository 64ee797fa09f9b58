"""`Authorization: Api-Key <key>` for platforms and regulators (DESIGN §7)."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from recognition.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """The authenticated "user" is anonymous; `request.auth` is the ApiKey."""

    keyword = "Api-Key"
    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.split(" ", 1)[0].lower() != self.keyword.lower():
            return None
        key = self.parser.get_from_authorization(request)
        if not key:
            raise exceptions.AuthenticationFailed("the Api-Key header carries no key")
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
            "description": "`Api-Key <key>`; a key has the role platform or regulator.",
        }
