"""/.well-known/ routes (the registry's public keys)."""

urlpatterns: list = []
