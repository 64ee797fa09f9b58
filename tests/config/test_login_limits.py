"""Admin login attempts are limited by django-axes:
AXES_FAILURE_LIMIT (5) failures for one username from one address lock that
pair out for AXES_COOLOFF_MINUTES (15): HTTP 429 with Retry-After and a page
that says so, even for the right password. Other users, and the same user
from another address, are unaffected; a successful login clears the count;
the API, which takes API keys and never a password, is not involved."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_key_create
from tests.config.test_settings import manage, production_env  # noqa: F401 (a fixture)
from tests.support.actors import PASSWORD

LOGIN = "/admin/login/"
ATTACKER = "203.0.113.9"
ELSEWHERE = "198.51.100.7"


def attempt(username: str, password: str, *, address: str = "127.0.0.1", client: Client | None = None, **extra):
    client = client or Client()
    return client.post(
        f"{LOGIN}?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "sessionid" in response.cookies


def fail(username: str, times: int, *, limit: int = 5, **kwargs) -> None:
    """`times` wrong passwords: the login form again, with its error, until
    the one that reaches the limit, which is already answered by the lockout."""
    for number in range(1, times + 1):
        response = attempt(username, "wrong-password", **kwargs)
        assert response.status_code == (429 if number >= limit else 200), number


def test_below_the_limit_the_right_password_still_logs_in(world):
    fail("alice", 4)
    assert logged_in(attempt("alice", PASSWORD))


def test_after_five_failures_even_the_right_password_is_refused_with_429(world):
    fail("alice", 5)
    response = attempt("alice", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "<strong>alice</strong>" in page
    assert "15 minutes" in page
    assert "sessionid" not in response.cookies
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_lockout_page_escapes_the_username(world):
    fail("<b>x</b>", 5)
    response = attempt("<b>x</b>", "wrong-password")
    assert response.status_code == 429
    assert "<b>x</b>" not in response.content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in response.content.decode()


def test_other_users_from_the_same_address_are_not_locked_out(world):
    fail("alice", 5)
    assert attempt("alice", PASSWORD).status_code == 429
    assert logged_in(attempt("bob", PASSWORD))


def test_the_same_user_from_another_address_is_not_locked_out(world):
    fail("alice", 5, address=ATTACKER)
    assert attempt("alice", PASSWORD, address=ATTACKER).status_code == 429
    assert logged_in(attempt("alice", PASSWORD, address=ELSEWHERE))


def test_a_successful_login_clears_the_count(world):
    fail("alice", 4)
    assert logged_in(attempt("alice", PASSWORD))
    assert not AccessAttempt.objects.filter(username="alice").exists()
    fail("alice", 4)
    assert logged_in(attempt("alice", PASSWORD))


def test_the_lockout_ends_after_the_cool_off(world):
    fail("alice", 5)
    assert attempt("alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert logged_in(attempt("alice", PASSWORD))


def test_an_attempt_during_the_lockout_starts_the_wait_again(world):
    fail("alice", 5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    assert attempt("alice", PASSWORD).status_code == 429  # 10 minutes in: still locked, and the wait restarts
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    assert attempt("alice", PASSWORD).status_code == 429  # 20 minutes after the fifth failure, 10 after the last
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert logged_in(attempt("alice", PASSWORD))


def test_the_limit_and_cool_off_come_from_the_settings(world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)
    fail("alice", 2, limit=2)
    response = attempt("alice", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "180"


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # What a client writes before the proxy's own entry is not trusted.
    fail("alice", 5, HTTP_X_FORWARDED_FOR=f"{ELSEWHERE}, {ATTACKER}")
    assert attempt("alice", PASSWORD, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert logged_in(attempt("alice", PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE))


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(world):
    fail("alice", 5, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert attempt("alice", PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 429


def test_the_api_takes_keys_not_passwords_and_is_not_limited_by_axes(world):
    client = APIClient()
    for _ in range(10):
        response = client.get("/api/v1/audit/integrity/", HTTP_AUTHORIZATION="Api-Key unknown.key")
        assert response.status_code == 401
    assert not AccessAttempt.objects.exists()
    key = api_key_create(name="regulator", role="regulator")[1]
    assert client.get("/api/v1/audit/integrity/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200


def test_a_locked_out_user_keeps_no_way_in_through_the_admin_index(world):
    fail("alice", 5)
    client = Client()
    assert attempt("alice", PASSWORD, client=client).status_code == 429
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# Configuration: fail-closed environment variables ---------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("AXES_FAILURE_LIMIT", "many"), ("AXES_FAILURE_LIMIT", "0"), ("AXES_COOLOFF_MINUTES", "0"),
     ("TRUSTED_PROXY_COUNT", "-1")],
)  # fmt: skip
def test_a_bad_login_limit_setting_stops_start_up_naming_it(production_env, name, value):  # noqa: F811
    result = manage("check", env={**production_env, name: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured")
    assert name in last_line


def test_the_login_limits_are_read_from_the_environment(production_env):  # noqa: F811
    env = {**production_env, "AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "60"}
    code = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 1:00:00"
