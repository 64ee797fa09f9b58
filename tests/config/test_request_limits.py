"""Request size limits (DESIGN §10): a body over 1 MiB is
refused with 413 before anything reads it, wherever it is sent (the admin
login too), and a form or query string of more than
DATA_UPLOAD_MAX_NUMBER_FIELDS (500) fields is a 400, in the API's error
shape under /api/ and as a problem under /trqp/."""

import json
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

ONE_MIB = 1024 * 1024


def test_the_field_limit_is_set():
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 500
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == ONE_MIB


def test_an_oversized_admin_login_is_refused_with_413_before_it_is_read(world):
    body = "username=alice&password=" + "x" * ONE_MIB
    response = Client().post("/admin/login/", body, content_type="application/x-www-form-urlencoded", secure=True)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert not AccessAttempt.objects.exists()  # never read, so never a login attempt
    # The refusal carries the security headers like any answer.
    assert response["Strict-Transport-Security"].startswith("max-age=")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_an_oversized_trqp_query_is_a_413_problem(world):
    body = json.dumps({"entity_id": "x" * ONE_MIB})
    response = Client().post("/trqp/recognition", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert (problem["type"], problem["title"], problem["status"]) == ("about:blank", HTTPStatus(413).phrase, 413)
    assert "1048576" in problem["detail"]


def test_an_admin_login_with_too_many_fields_is_a_400(world):
    fields = {f"field{index}": "x" for index in range(501)}
    response = Client().post("/admin/login/", {"username": "alice", "password": "wrong", **fields})
    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("url", ["/api/v1/authorities/", "/api/v1/recognition/", "/api/v1/agreements/1/"])
def test_an_api_query_string_of_too_many_fields_is_a_400_in_the_error_shape(world, url):
    query = "&".join(f"f{index}=1" for index in range(501))
    response = Client().get(f"{url}?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "error": "malformed_request",
        "detail": "the request has more than 500 query or form fields",
    }


def test_a_trqp_query_string_of_too_many_fields_is_a_400_problem(world):
    query = "&".join(f"f{index}=1" for index in range(501))
    response = Client().get(f"/trqp/entities?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_500_fields_are_still_read(world):
    query = "&".join(["authority_id=CN", *(f"f{index}=1" for index in range(499))])
    response = Client().get(f"/trqp/entities?{query}")
    assert response.status_code == 400
    assert "unknown" in response.json()["detail"]  # read, then refused as unknown parameters
