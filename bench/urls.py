"""The production URLconf plus the benchmark's yardsticks (bench settings only)."""

from django.urls import path

from bench.views import HelloApi, VerificationWithoutAuditApi
from config.urls import handler404, handler500
from config.urls import urlpatterns as production

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/hello/", HelloApi.as_view(), name="bench-hello"),
    path("bench/verifications/", VerificationWithoutAuditApi.as_view(), name="bench-verify"),
    *production,
]
