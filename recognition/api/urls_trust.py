"""Routes of this part of the API; included by recognition/api/urls.py."""

from django.urls import path

from recognition.api.trust import RecognitionAtApi, TrustListApi

urlpatterns: list = [
    path("recognition/", RecognitionAtApi.as_view(), name="recognition-at"),
    path("trust-lists/<str:country>/", TrustListApi.as_view(), name="trust-list"),
]
