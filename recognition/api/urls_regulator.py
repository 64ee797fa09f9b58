"""Routes of this part of the API; included by recognition/api/urls.py."""

urlpatterns: list = []
