"""GET /healthz: liveness and database reachability (DESIGN §7), public."""

from unittest import mock

from django.db import DatabaseError


def test_healthz_reports_ok_with_a_reachable_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_needs_no_login_and_answers_head_requests(client, db):
    assert client.head("/healthz").status_code == 200


def test_healthz_reports_503_when_the_database_is_unreachable(client, db):
    with mock.patch("config.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
