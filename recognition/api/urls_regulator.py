"""Routes of this part of the API; included by recognition/api/urls.py."""

from django.urls import path

from recognition.api.audit import AuditIntegrityApi, AuditVerificationListApi
from recognition.api.history import AgreementHistoryApi

urlpatterns = [
    path("agreements/<int:pk>/history/", AgreementHistoryApi.as_view(), name="agreement-history"),
    path("audit/verifications/", AuditVerificationListApi.as_view(), name="audit-verifications"),
    path("audit/integrity/", AuditIntegrityApi.as_view(), name="audit-integrity"),
]
