"""Security headers on every kind of page: HSTS behind TLS,
nosniff, frame denial, a Content-Security-Policy fitted to each page,
Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy; and the
session and CSRF cookies of a login, Secure in production.

The test settings are production's (DEBUG off) with SECURE_SSL_REDIRECT off;
`secure=True` makes the test client's request HTTPS."""

import re

import pytest
from django.http import HttpResponse
from django.test import Client

from config.middleware import API_CSP, HTML_CSP, add_docs_nonce
from tests.support.actors import PASSWORD

HSTS = "max-age=31536000; includeSubDomains; preload"
PAGES = {
    "admin page": ("/admin/", "root"),
    "admin login": ("/admin/login/", None),
    "matrix page": ("/recognition/matrix/", "rita"),
    "api docs": ("/api/docs/", None),
    "api json": ("/api/v1/authorities/", None),
    "healthz": ("/healthz", None),
}


def fetch(world, page: str, **extra):
    path, user = PAGES[page]
    client = Client()
    if user:
        client.force_login(getattr(world, user))
    response = client.get(path, **extra)
    assert response.status_code == 200, (page, response.status_code)
    return response


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("page", PAGES)
def test_every_kind_of_page_carries_the_security_headers_over_https(world, page):
    response = fetch(world, page, secure=True)
    assert response["Strict-Transport-Security"] == HSTS
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("page", PAGES)
def test_hsts_is_sent_only_over_https(world, page):
    assert "Strict-Transport-Security" not in fetch(world, page)


def test_hsts_is_sent_when_the_proxy_says_the_request_came_over_https(world):
    response = fetch(world, "healthz", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize("page", ["admin page", "admin login"])
def test_admin_pages_run_only_their_own_static_scripts_and_styles(world, page):
    policy = directives(fetch(world, page, secure=True)["Content-Security-Policy"])
    assert policy == directives(HTML_CSP)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["style-src-attr"] == "'unsafe-inline'"  # style attributes only (django-simple-history)
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'none'"


def test_the_matrix_page_keeps_its_own_stricter_policy(world):
    policy = directives(fetch(world, "matrix page", secure=True)["Content-Security-Policy"])
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert policy["style-src"] == "'unsafe-inline'"


@pytest.mark.parametrize("page", ["api json", "healthz"])
def test_json_answers_load_nothing_and_are_never_framed(world, page):
    assert fetch(world, page)["Content-Security-Policy"] == API_CSP == "default-src 'none'; frame-ancestors 'none'"


def test_api_errors_carry_the_headers_too(world):
    response = Client().get("/api/v1/authorities/999999/", secure=True)
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == API_CSP
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_nosniff(db):
    response = Client().get("/static/admin/css/base.css", secure=True)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    response.close()


# Swagger UI: nonces for its one inline script and one inline style ----------------


def docs_nonce(response) -> str:
    policy = directives(response["Content-Security-Policy"])
    (nonce,) = re.findall(r"'nonce-([A-Za-z0-9_-]+)'", policy["script-src"])
    assert policy["script-src"] == policy["style-src"] == f"'self' 'nonce-{nonce}'"
    return nonce


def test_swagger_ui_runs_its_inline_script_and_style_by_nonce_not_unsafe_inline(world):
    response = fetch(world, "api docs", secure=True)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    nonce = docs_nonce(response)
    page = response.content.decode()
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline_scripts == [f' nonce="{nonce}"']
    assert re.findall(r"<style([^>]*)>", page) == [f' nonce="{nonce}"']
    assert int(response["Content-Length"]) == len(response.content)
    assert directives(response["Content-Security-Policy"])["img-src"] == "'self' data:"


def test_each_swagger_ui_page_gets_a_fresh_nonce(world):
    assert docs_nonce(fetch(world, "api docs")) != docs_nonce(fetch(world, "api docs"))


def test_a_docs_page_with_another_inline_script_gets_no_nonce_at_all():
    page = "<html><head><style>a{}</style></head><body><script>ok()</script><script>injected()</script></body></html>"
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    assert add_docs_nonce(response) is None
    assert response.content.decode() == page


def test_swagger_ui_does_not_open_its_window_to_cross_origin_popups(world):
    # drf-spectacular sends "unsafe-none" for an OAuth2 popup the registry does not use.
    assert fetch(world, "api docs")["Cross-Origin-Opener-Policy"] == "same-origin"


# Cookies ----------------------------------------------------------------------------


def test_a_login_sets_secure_http_only_same_site_cookies_in_production(world):
    client = Client(enforce_csrf_checks=True)
    form = client.get("/admin/login/", secure=True)
    csrf = form.cookies["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER="https://testserver/admin/login/",  # HTTPS CSRF checks the Referer
    )
    assert response.status_code == 302, response.content[:300]
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert response.cookies["csrftoken"]["secure"] is True  # rotated at login
