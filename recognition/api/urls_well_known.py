"""/.well-known/ routes (the registry's public keys)."""

from django.urls import path

from recognition.api.trust import RegistryJwksApi

urlpatterns: list = [
    path("jwks.json", RegistryJwksApi.as_view(), name="registry-jwks"),
]
