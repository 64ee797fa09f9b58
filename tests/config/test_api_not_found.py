"""A URL under /api/ that names no endpoint answers the API's JSON 404
(DESIGN §10), with DEBUG on as off (config/middleware.py
ApiNotFoundMiddleware): Django's HTML debug page is for people, not for
the API's clients."""

import pytest
from django.test import Client

from tests.support.api import error_of


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/authorities/not-a-number/", "/api/v2/authorities/"])
def test_an_unknown_api_url_is_the_json_404(db, settings, debug, path):
    settings.DEBUG = debug
    detail = error_of(Client().get(path), 404, "not_found")
    assert "endpoint" in detail


def test_a_missing_trailing_slash_still_redirects_first(db, settings):
    settings.DEBUG = True
    response = Client().get("/api/v1/authorities")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/authorities/"


def test_pages_outside_the_api_keep_their_html_404(db, settings):
    settings.DEBUG = True
    response = Client().get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
