"""Conditional GET of the public signed documents (core/http_cache.py)."""

import pytest
from django.test import RequestFactory

from core.http_cache import conditional_response, strong_etag

BODY = b"eyJhbGciOiJFZERTQSJ9.e30.c2ln"


def _get(**headers):
    return RequestFactory().get("/doc/", headers=headers)


def test_a_first_read_gets_the_body_with_its_etag_and_cache_headers():
    response = conditional_response(_get(), BODY, content_type="application/jwt", max_age=300)
    assert response.status_code == 200
    assert response.content == BODY
    assert response["Content-Type"] == "application/jwt"
    assert response["ETag"] == strong_etag(BODY)
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Vary"] == "Accept-Encoding"


def test_the_etag_names_the_bytes():
    assert strong_etag(BODY) != strong_etag(BODY + b"x")
    assert strong_etag(BODY).startswith('"') and strong_etag(BODY).endswith('"')


@pytest.mark.parametrize(
    "header",
    [
        lambda etag: etag,
        lambda etag: f"W/{etag}",
        lambda etag: f'"other", {etag}',
        lambda etag: "*",
    ],
)
def test_a_matching_if_none_match_gets_304_without_a_body(header):
    etag = strong_etag(BODY)
    response = conditional_response(
        _get(**{"If-None-Match": header(etag)}), BODY, content_type="application/jwt", max_age=60
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize("header", ['"stale"', "", "W/", '"' + "0" * 32 + '"'])
def test_any_other_if_none_match_gets_the_body(header):
    response = conditional_response(_get(**{"If-None-Match": header}), BODY, content_type="application/jwt", max_age=60)
    assert response.status_code == 200
    assert response.content == BODY


def test_a_negative_max_age_is_never_sent():
    response = conditional_response(_get(), BODY, content_type="application/jwt", max_age=-5)
    assert response["Cache-Control"] == "public, max-age=0"
