"""TRQP routes (DESIGN §9); included at /trqp/ by config/urls.py."""

from django.urls import path, re_path

from recognition.trqp import views
from recognition.trqp.problems import not_found

urlpatterns = [
    path("authorization", views.TrqpAuthorizationApi.as_view(), name="trqp-authorization"),
    path("recognition", views.TrqpRecognitionApi.as_view(), name="trqp-recognition"),
    path("metadata", views.TrqpMetadataApi.as_view(), name="trqp-metadata"),
    path("lookups/assuranceLevels", views.TrqpAssuranceLevelsApi.as_view(), name="trqp-assurance-levels"),
    path("lookups/authorizations", views.TrqpAuthorizationsApi.as_view(), name="trqp-authorizations"),
    path("entities", views.TrqpEntitiesApi.as_view(), name="trqp-entities"),
    # Anything else under /trqp/ is a problem+json 404, not Django's HTML page.
    re_path(r"^(?P<rest>.*)$", not_found),
]
