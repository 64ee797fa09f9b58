"""GET /healthz: liveness, database reachability and the audit log's maximum
merge delay (DESIGN §6, §7), public."""

from datetime import timedelta
from unittest import mock

from django.db import DatabaseError
from django.utils import timezone

from recognition.log.integrator import integrate_all
from recognition.services.audit import record_decisions
from tests.support.audit import entry


def test_healthz_reports_ok_with_a_reachable_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "audit_log": "ok"}


def test_healthz_needs_no_login_and_answers_head_requests(client, db):
    assert client.head("/healthz").status_code == 200


def test_healthz_reports_503_when_the_database_is_unreachable(client, db):
    with mock.patch("config.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def test_healthz_reports_the_log_behind_while_an_old_entry_is_in_no_checkpoint(client, db, settings):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "MAX_MERGE_SECONDS": 10.0}
    record_decisions([entry()], at=timezone.now())
    assert client.get("/healthz").status_code == 200  # young: within the merge delay
    record_decisions([entry()], at=timezone.now() - timedelta(seconds=11))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["audit_log"], body["database"]) == ("behind", "ok")
    assert body["oldest_unpublished_seconds"] > 10
    integrate_all()  # placed and in a signed checkpoint: caught up
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "audit_log": "ok"}


def test_healthz_reports_the_log_behind_when_placed_entries_wait_for_a_checkpoint(client, db, settings):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "MAX_MERGE_SECONDS": 10.0, "CHECKPOINT_SECONDS": 3600.0}
    integrate_all()  # the first checkpoint
    record_decisions([entry()], at=timezone.now() - timedelta(seconds=11))
    integrate_all()  # placed, but the next checkpoint is not due for an hour
    assert client.get("/healthz").json()["audit_log"] == "behind"
