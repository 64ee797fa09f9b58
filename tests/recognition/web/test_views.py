"""The recognition matrix page for staff (recognition/web/views.py): the grid
for staff with a role (and who may not see it), the date picker answered
from history, and the link from the admin's header. The same data as JSON:
tests/api/test_matrix.py; the cell states: tests/recognition/services/test_matrix.py."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from recognition.services import agreements as svc
from tests.support.actors import PASSWORD
from tests.support.clock import T0
from tests.support.matrix import PAGE, logged_in, page_states


@pytest.mark.parametrize("who", ["rita", "root", "alice"])
def test_page_shows_the_grid_to_staff_with_a_role(world, who):
    response = logged_in(getattr(world, who)).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    states = page_states(html)
    assert states[("CN", "CL")] == "recognized"
    assert states[("CN", "KZ")] == "none"
    assert states[("CN", "CN")] == "domestic"
    assert states[("CL", "CN")] == "none"
    assert len(states) == 9
    assert "Legend" in html and "Partly recognized" in html and "Suspended" in html
    assert 'type="date"' in html and 'name="at"' in html


def test_page_loads_no_external_asset(world):
    response = logged_in(world.rita).get(PAGE)
    html = response.content.decode()
    for tag in re.findall(r"<(?:link|script|img|iframe|object|embed)\b[^>]*>", html, flags=re.IGNORECASE):
        assert "http://" not in tag and "https://" not in tag, tag
    assert "<script" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_cell_title_lists_the_authorities_and_agreement_ids(world):
    html = logged_in(world.rita).get(PAGE).content.decode()
    (title,) = re.findall(r'data-destination="CN" data-origin="CL" data-state="\w+" title="([^"]*)"', html)
    assert world.cl.authority.issuer in title
    assert f"#{world.cn_recognizes_cl.pk} active, in force" in title


def test_anonymous_is_sent_to_the_admin_login(world):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/recognition/matrix/")


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(world):
    user = get_user_model().objects.create_user("nora", password=PASSWORD)
    response = logged_in(user).get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_a_role_is_forbidden(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    response = logged_in(stan).get(PAGE)
    assert response.status_code == 403
    assert b"data-state" not in response.content


def test_page_is_read_only(world):
    assert logged_in(world.rita).post(PAGE).status_code == 405


def test_bad_date_is_a_clear_message_on_the_page(world):
    response = logged_in(world.rita).get(PAGE, {"at": "2026-02-30"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Cannot show the matrix at that date" in html and "not a valid date" in html
    assert "data-state" not in html


@pytest.mark.parametrize("who", ["rita", "root", "alice"])
def test_admin_header_links_to_the_matrix_for_users_with_a_role(world, who):
    html = logged_in(getattr(world, who)).get("/admin/").content.decode()
    assert 'href="/recognition/matrix/"' in html


def test_admin_header_has_no_matrix_link_for_staff_without_a_role(world):
    stan = get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)
    html = logged_in(stan).get("/admin/").content.decode()
    assert "Log out" in html
    assert 'href="/recognition/matrix/"' not in html


# Timelines (the clock technique of tests/recognition/services/test_point_in_time.py) ----------


def test_date_picker_shows_the_state_before_an_agreement_existed(world, clock):
    clock.now = T0 + timedelta(days=1, hours=12)
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
        valid_from=T0,
        activate=True,
    )
    clock.now = T0 + timedelta(days=5)
    client = logged_in(world.rita)
    before = client.get(PAGE, {"at": T0.date().isoformat()})
    after = client.get(PAGE, {"at": (T0 + timedelta(days=2)).date().isoformat()})
    now = client.get(PAGE)
    assert page_states(before.content.decode())[("CN", "KZ")] == "none"
    assert page_states(after.content.decode())[("CN", "KZ")] == "recognized"
    assert page_states(now.content.decode())[("CN", "KZ")] == "recognized"
    assert f'value="{T0.date().isoformat()}"' in before.content.decode()
    exact = client.get(PAGE, {"at": (T0 + timedelta(days=1, hours=12)).isoformat().replace("+00:00", "Z")})
    assert page_states(exact.content.decode())[("CN", "KZ")] == "recognized"


def test_the_empty_date_picker_means_now_on_the_page(world):
    response = logged_in(world.rita).get(PAGE, {"at": ""})
    assert response.status_code == 200 and page_states(response.content.decode())[("CN", "CL")] == "recognized"
