"""TRQP routes (DESIGN §9); included at /trqp/ by config/urls.py."""

urlpatterns: list = []
