"""Routes of this part of the API; included by recognition/api/urls.py."""

from django.urls import path

from recognition.api.public import (
    AgreementDetailApi,
    AgreementListApi,
    AuthorityDetailApi,
    AuthorityJwksApi,
    AuthorityListApi,
)

urlpatterns = [
    path("authorities/", AuthorityListApi.as_view(), name="authority-list"),
    path("authorities/<int:pk>/", AuthorityDetailApi.as_view(), name="authority-detail"),
    path("authorities/<int:pk>/jwks.json", AuthorityJwksApi.as_view(), name="authority-jwks"),
    path("agreements/", AgreementListApi.as_view(), name="agreement-list"),
    path("agreements/<int:pk>/", AgreementDetailApi.as_view(), name="agreement-detail"),
]
