"""Every route of the API under /api/v1/ (DESIGN §7)."""

from django.urls import path, re_path

from recognition.api import schema  # noqa: F401 (registers the schema extensions)
from recognition.api.audit import AuditIntegrityApi, AuditVerificationListApi
from recognition.api.evidence import EntryEvidenceApi
from recognition.api.history import AgreementHistoryApi
from recognition.api.log import CheckpointApi, ConsistencyApi, EntryProofApi, LogKeyApi, TileApi
from recognition.api.matrix import RecognitionMatrixApi
from recognition.api.public import (
    AgreementDetailApi,
    AgreementListApi,
    AuthorityDetailApi,
    AuthorityJwksApi,
    AuthorityListApi,
)
from recognition.api.status import MerchantStatusApi, StatusListApi
from recognition.api.trust import RecognitionAtApi, TrustListApi
from recognition.api.verifications import VerificationBatchApi, VerificationCreateApi
from recognition.api.witnesses import WitnessListApi

urlpatterns = [
    # Platforms and regulators (section 5).
    path("verifications/", VerificationCreateApi.as_view(), name="verification-create"),
    path("verifications/batch/", VerificationBatchApi.as_view(), name="verification-batch"),
    # Public reads.
    path("authorities/", AuthorityListApi.as_view(), name="authority-list"),
    path("authorities/<int:pk>/", AuthorityDetailApi.as_view(), name="authority-detail"),
    path("authorities/<int:pk>/jwks.json", AuthorityJwksApi.as_view(), name="authority-jwks"),
    path("agreements/", AgreementListApi.as_view(), name="agreement-list"),
    path("agreements/<int:pk>/", AgreementDetailApi.as_view(), name="agreement-detail"),
    # The trust picture, public.
    path("recognition/", RecognitionAtApi.as_view(), name="recognition-at"),
    path("recognition/matrix/", RecognitionMatrixApi.as_view(), name="recognition-matrix-api"),
    path("trust-lists/<str:country>/", TrustListApi.as_view(), name="trust-list"),
    # What a verifier at the platform's edge reads (draft-ietf-oauth-status-list-20), public.
    path("status-lists/<int:number>/", StatusListApi.as_view(), name="status-list"),
    path("merchant-status/<str:country>/", MerchantStatusApi.as_view(), name="merchant-status"),
    # Regulators.
    path("agreements/<int:pk>/history/", AgreementHistoryApi.as_view(), name="agreement-history"),
    path("audit/verifications/", AuditVerificationListApi.as_view(), name="audit-verifications"),
    path("audit/integrity/", AuditIntegrityApi.as_view(), name="audit-integrity"),
    # The transparency log (section 6).
    path("audit/log/checkpoint", CheckpointApi.as_view(), name="audit-log-checkpoint"),
    path("audit/log/key", LogKeyApi.as_view(), name="audit-log-key"),
    path("audit/log/witnesses", WitnessListApi.as_view(), name="audit-log-witnesses"),
    path("audit/log/consistency", ConsistencyApi.as_view(), name="audit-log-consistency"),
    path("audit/log/entries/<uuid:entry_id>/proof", EntryProofApi.as_view(), name="audit-log-proof"),
    path("audit/log/entries/<uuid:entry_id>/evidence", EntryEvidenceApi.as_view(), name="audit-log-evidence"),
    re_path(r"^audit/log/tile/(?P<path>[0-9a-z./]{1,80})$", TileApi.as_view(), name="audit-log-tile"),
]
