"""The admin of the audit log and of API keys (DESIGN §6, §7).

The audit log's decisions are view-only for everyone, the superuser
included: regulators and the superuser see every row, a country
administrator only the decisions taken for their country, other staff
nothing. A row shows its instant, its leaf index (once the integrator placed
it) and its leaf hash; no chain. API keys are the superuser's
business only; a key created in the admin shows its secret once and works.
Every refusal is proved with a crafted request."""

import base64
import html
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey as LibraryApiKey

from accounts.models import ApiKey
from accounts.services import api_key_create
from recognition.log.integrator import integrate_all
from recognition.log.integrity import check_log
from recognition.models import LogEntry, Verification
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.support.actors import PASSWORD
from tests.support.admin import (
    add_url,
    change_url,
    changelist_url,
    client_for,
    delete_url,
    is_read_only_page,
    messages_of,
    post_action,
)
from tests.support.audit import expected_entry, leaf_hash
from tests.support.tokens import claims_for, sign


@pytest.fixture
def rows(world) -> dict[str, Verification]:
    """One decision for each destination: CN accepts a Chilean credential;
    CL rejects a Chinese one (no agreement); KZ rejects junk."""
    cn_claims = claims_for(world.cl)
    outcomes = verify_credentials(
        [
            VerificationRequest(token=sign(world.cl, cn_claims), destination="CN", origin="CL"),
            VerificationRequest(token=sign(world.cn), destination="CL"),
            VerificationRequest(token="not-a-jws", destination="KZ"),
        ],
        client="shop-platform",
    )
    cn, cl, kz = (outcome.record.row for outcome in outcomes)
    cn.claimed_jti = cn_claims["jti"]
    return {"CN": cn, "CL": cl, "KZ": kz}


def listed(response) -> set[str]:
    """The destinations of the rows a changelist shows (one row each in `rows`)."""
    assert response.status_code == 200, response.status_code
    return {row.destination for row in response.context["cl"].result_list}


EVERY = {"CN", "CL", "KZ"}


@pytest.fixture
def stan(world):
    """A staff user with no role."""
    return get_user_model().objects.create_user("stan", password=PASSWORD, is_staff=True)


def snapshot() -> tuple[list[dict], list[tuple]]:
    return (
        list(Verification.objects.order_by("id").values()),
        list(LogEntry.objects.order_by("id").values_list("id", "seq", "body", "leaf_hash")),
    )


@pytest.fixture
def unchanged(rows):
    """Whether the audit log is as it was when the test began, and intact."""
    integrate_all()
    before = snapshot()
    return lambda: snapshot() == before and check_log().intact


def leaf_hash_text(row: Verification) -> str:
    return base64.b64encode(leaf_hash(expected_entry(row))).decode("ascii")


# Who sees which rows -----------------------------------------------------------


@pytest.mark.parametrize("username", ["rita", "root"])
def test_regulator_and_superuser_see_every_row(world, rows, username):
    client = client_for(getattr(world, username))
    assert listed(client.get(changelist_url(Verification))) == EVERY
    page = client.get(change_url(rows["CL"]))
    assert is_read_only_page(page)
    assert leaf_hash_text(rows["CL"]) in page.content.decode()


def shown(page: str, field: str) -> str:
    """The text of a read-only field on a change page."""
    found = re.search(rf'<div class="form-row field-{field}">.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert found, field
    return html.unescape(found[1])


def test_a_row_shows_its_instant_leaf_index_and_leaf_hash_not_a_chain(world, rows):
    rita = client_for(world.rita)
    row = rows["CL"]
    page = rita.get(change_url(row)).content.decode()
    assert shown(page, "leaf_index") == "not yet in the log's tree (the integrator places it within seconds)"
    assert shown(page, "leaf_hash") == leaf_hash_text(row)
    assert shown(page, "id") == str(row.id)
    assert row.created_at.strftime("%Y") in shown(page, "created_at")
    for gone in ("prev_hash", "field-seq", "field-hash"):
        assert gone not in page
    integrate_all()
    page = rita.get(change_url(row)).content.decode()
    assert shown(page, "leaf_index") == str(LogEntry.objects.get(id=row.id).seq)
    assert shown(page, "leaf_hash") == leaf_hash_text(row)
    # The list: newest first, by instant; no leaf index or hash column to compute a row at a time.
    changelist = rita.get(changelist_url(Verification))
    assert [column for column in changelist.context["cl"].list_display if column != "action_checkbox"] == [
        "when",
        "decision",
        "reason_labels",
        "destination_country",
        "origin_country",
        "client",
        "issuer",
    ]
    newest_first = [r.id for r in changelist.context["cl"].result_list]
    assert newest_first == [r.id for r in sorted(rows.values(), key=lambda r: (r.created_at, r.id), reverse=True)]


def test_country_administrator_sees_decisions_for_their_border_and_about_their_credentials(world, rows):
    # CN decided on a Chilean credential, CL on a Chinese one: each
    # administrator sees both (destination or origin theirs), never KZ's.
    alice = client_for(world.alice)  # CN
    assert listed(alice.get(changelist_url(Verification))) == {"CN", "CL"}
    assert is_read_only_page(alice.get(change_url(rows["CN"])))
    assert is_read_only_page(alice.get(change_url(rows["CL"])))
    bob = client_for(world.bob)  # CL
    assert listed(bob.get(changelist_url(Verification))) == {"CL", "CN"}


def test_country_administrator_cannot_open_or_filter_to_another_countrys_rows(world, rows):
    alice = client_for(world.alice)
    opened = alice.get(change_url(rows["KZ"]))
    assert opened.status_code == 302  # the row is out of scope: the message says whose it is
    assert leaf_hash_text(rows["KZ"]) not in alice.get(opened["Location"], follow=True).content.decode()
    assert listed(alice.get(changelist_url(Verification), {"destination": "KZ"})) == set()
    # The filter offers only what the user may see.
    page = alice.get(changelist_url(Verification)).content.decode()
    assert "destination=CN" in page and "destination=CL" in page and "destination=KZ" not in page


def test_staff_without_role_sees_no_audit_log(world, rows, stan):
    client = client_for(stan)
    assert client.get(changelist_url(Verification)).status_code == 403
    assert client.get(change_url(rows["CN"])).status_code in (302, 403)
    assert "Verification" not in client.get("/admin/").content.decode()


def test_anonymous_visitor_is_sent_to_the_login_page(world, rows):
    for url in (changelist_url(Verification), change_url(rows["CN"])):
        response = APIClient().get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_regulator_filters_searches_and_browses_by_date(world, rows):
    rita = client_for(world.rita)
    url = changelist_url(Verification)
    assert listed(rita.get(url, {"decision__exact": "accepted"})) == {"CN"}
    assert listed(rita.get(url, {"decision__exact": "rejected"})) == {"CL", "KZ"}
    assert listed(rita.get(url, {"destination": "CL"})) == {"CL"}
    assert listed(rita.get(url, {"origin": "CN"})) == {"CL"}
    assert listed(rita.get(url, {"client": "shop-platform"})) == EVERY
    assert listed(rita.get(url, {"q": rows["CN"].claimed_jti})) == {"CN"}
    assert listed(rita.get(url, {"q": "https://samr-cn.test/issuer"})) == {"CL"}
    assert listed(rita.get(url, {"q": rows["KZ"].token_sha256})) == {"KZ"}
    assert listed(rita.get(url, {"q": rows["KZ"].token_sha256[:-1]})) == set()  # the exact hash only
    day = rows["CN"].created_at
    by_day = {"created_at__year": day.year, "created_at__month": day.month, "created_at__day": day.day}
    assert listed(rita.get(url, by_day)) == EVERY
    assert listed(rita.get(url, {**by_day, "created_at__day": (day.day % 28) + 1})) == set()


# Nobody writes ------------------------------------------------------------------


@pytest.mark.parametrize("username", ["rita", "root", "alice"])
def test_nobody_can_add_change_or_delete_an_audit_row(world, rows, unchanged, username):
    client = client_for(getattr(world, username))
    row = rows["CN"]
    assert client.get(add_url(Verification)).status_code == 403
    assert client.post(add_url(Verification), {"seq": 99, "client": "forged"}).status_code == 403
    assert client.post(change_url(row), {"client": "forged", "decision": "rejected"}).status_code == 403
    assert client.post(delete_url(row), {"post": "yes"}).status_code == 403
    assert unchanged()


def test_superuser_bulk_delete_action_is_not_offered_and_deletes_nothing(world, rows, unchanged):
    root = client_for(world.root)
    page = root.get(changelist_url(Verification)).content.decode()
    assert "delete_selected" not in page
    response = post_action(root, Verification, "delete_selected", list(rows.values()), post="yes")
    assert response.status_code == 200
    assert unchanged()


def test_country_administrator_cannot_delete_another_countrys_row(world, rows, unchanged):
    alice = client_for(world.alice)
    assert alice.post(delete_url(rows["CL"]), {"post": "yes"}).status_code == 403
    assert alice.post(change_url(rows["CL"]), {"client": "forged"}).status_code == 403
    assert unchanged()


# API keys: the superuser's only -------------------------------------------------


def test_library_api_key_model_is_not_in_the_admin():
    assert not admin.site.is_registered(LibraryApiKey)
    assert admin.site.is_registered(ApiKey)


@pytest.mark.parametrize("username", ["rita", "alice", "stan"])
def test_api_keys_are_hidden_from_everyone_but_the_superuser(world, stan, username):
    user = stan if username == "stan" else getattr(world, username)
    api_key, _ = api_key_create(name="shop-platform")
    client = client_for(user)
    assert client.get(changelist_url(ApiKey)).status_code == 403
    assert client.get(change_url(api_key)).status_code in (302, 403)
    assert client.post(add_url(ApiKey), {"name": "sneaky", "role": "regulator"}).status_code == 403
    assert client.post(change_url(api_key), {"revoked": "on"}).status_code == 403
    assert not ApiKey.objects.filter(name="sneaky").exists()
    assert not ApiKey.objects.get(pk=api_key.pk).revoked


def test_superuser_creates_a_key_and_sees_its_secret_once(world):
    root = client_for(world.root)
    response = root.post(add_url(ApiKey), {"name": "admin-made-regulator", "role": "regulator"}, follow=True)
    assert response.status_code == 200
    (message,) = [m for m in messages_of(response) if "not shown again" in m]
    secret = re.search(r"is: (\S+\.\S+) ", message).group(1)
    api_key = ApiKey.objects.get(name="admin-made-regulator")
    assert api_key.role == "regulator"
    assert secret.startswith(api_key.prefix + ".")
    for column, value in ApiKey.objects.values().get(pk=api_key.pk).items():
        assert secret.partition(".")[2] not in str(value), column
    # Shown once: the key's page does not show it again.
    assert secret not in root.get(change_url(api_key)).content.decode()
    answer = APIClient().post(
        "/api/v1/verifications/",
        {"token": sign(world.cl), "destination": "CN"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {secret}",
    )
    assert answer.status_code == 200


def test_superuser_revokes_a_key_and_cannot_delete_it(world):
    api_key, secret = api_key_create(name="leaked-platform")
    root = client_for(world.root)
    assert root.post(delete_url(api_key), {"post": "yes"}).status_code == 403
    response = root.post(change_url(api_key), {"revoked": "on", "expiry_date_0": "", "expiry_date_1": ""})
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=api_key.pk).revoked
    answer = APIClient().post(
        "/api/v1/verifications/",
        {"token": "x", "destination": "CN"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {secret}",
    )
    assert answer.status_code == 401


def test_a_duplicate_key_name_is_refused_in_the_admin(world):
    api_key_create(name="shop-platform")
    root = client_for(world.root)
    response = root.post(add_url(ApiKey), {"name": "shop-platform", "role": "platform"})
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors
    assert ApiKey.objects.filter(name="shop-platform").count() == 1
