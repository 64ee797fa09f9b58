from django.urls import include, path

from recognition.api import schema  # noqa: F401 (registers the schema extensions)
from recognition.api.views import VerificationBatchApi, VerificationCreateApi

urlpatterns = [
    path("verifications/", VerificationCreateApi.as_view(), name="verification-create"),
    path("verifications/batch/", VerificationBatchApi.as_view(), name="verification-batch"),
    # Public reads (authorities, agreements), the trust picture (recognition,
    # trust lists) and the regulators' endpoints (history, audit).
    path("", include("recognition.api.urls_matrix")),
    path("", include("recognition.api.urls_public")),
    path("", include("recognition.api.urls_trust")),
    path("", include("recognition.api.urls_regulator")),
]
