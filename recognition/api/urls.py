from django.urls import path

from recognition.api.views import VerificationBatchApi, VerificationCreateApi

urlpatterns = [
    path("verifications/", VerificationCreateApi.as_view(), name="verification-create"),
    path("verifications/batch/", VerificationBatchApi.as_view(), name="verification-batch"),
]
