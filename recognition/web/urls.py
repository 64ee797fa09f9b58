"""The registry's pages for staff; included at /recognition/ by config/urls.py."""

from django.urls import path

from recognition.web.trust import trust_index, trust_list_page
from recognition.web.views import matrix_page

urlpatterns = [
    path("matrix/", matrix_page, name="recognition-matrix"),
    path("trust/", trust_index, name="recognition-trust-lists"),
    path("trust/<str:country>/", trust_list_page, name="recognition-trust-list"),
]
