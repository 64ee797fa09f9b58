"""The recognition matrix as JSON (issue 4 point 6); included by recognition/api/urls.py."""

from django.urls import path

from recognition.matrix_api import RecognitionMatrixApi

urlpatterns = [
    path("recognition/matrix/", RecognitionMatrixApi.as_view(), name="recognition-matrix-api"),
]
