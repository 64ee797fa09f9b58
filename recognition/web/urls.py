"""The recognition matrix page; included at /recognition/ by config/urls.py."""

from django.urls import path

from recognition.web.views import matrix_page

urlpatterns = [
    path("matrix/", matrix_page, name="recognition-matrix"),
]
