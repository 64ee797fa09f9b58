"""The recognition matrix page (issue: regulators); included at /recognition/ by config/urls.py."""

urlpatterns: list = []
