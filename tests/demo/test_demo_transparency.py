"""What a regulator or a foreign verifier sees of the demo corridor after
`load_demo` (done when): China's signed trust list verifies with a
second JOSE library (jwcrypto) against /.well-known/jwks.json and lists
what the demo agreements say, and the matrix shows the corridor."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Role
from demo.data import ACCOUNTS, AE, CL, CN, EL, HU, KH, KZ, MI, PK, RW, TR, VN
from tests.support.offline_verifier import verify_trust_list


@pytest.fixture
def demo(db, settings) -> None:
    settings.DEBUG = True  # the demo is for a development run
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO())


def china_trust_list() -> dict:
    anon = APIClient()
    response = anon.get("/api/v1/trust-lists/CN/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwt"
    jwks = anon.get("/.well-known/jwks.json").json()
    return verify_trust_list(
        response.content.decode("ascii"), jwks, country="CN", issuer="https://registry.example", now=datetime.now(UTC)
    )


def test_chinas_demo_trust_list_verifies_with_jwcrypto_and_lists_the_corridor(demo):
    payload = china_trust_list()
    listed = {entry["issuer"]: entry for entry in payload["authorities"]}
    # China's own authority (domestic, no agreement) and the partners whose
    # agreements are in force; not the expired (AE) or draft (RW) ones.
    assert listed[CN]["recognized_for"] == []
    assert {CL, VN, KZ, HU, PK, KH} <= set(listed) - {CN}
    assert AE not in listed and RW not in listed
    chile = listed[CL]["recognized_for"]
    assert [(scope["min_assurance"], scope["valid_until"]) for scope in chile] == [("substantial", None)]
    assert sorted(chile[0]["credential_types"]) == sorted([MI, EL, TR])
    assert [sorted(scope["credential_types"]) for scope in listed[HU]["recognized_for"]] == [[EL]]
    assert all(entry["jwks"]["keys"] for entry in listed.values())
    assert all("d" not in key for entry in listed.values() for key in entry["jwks"]["keys"])


def _regulator() -> APIClient:
    account = next(spec for spec in ACCOUNTS if spec.role == Role.REGULATOR)
    client = APIClient()
    client.force_login(get_user_model().objects.get(username=account.username))
    return client


def test_the_matrix_shows_the_demo_corridor(demo):
    body = APIClient().get("/api/v1/recognition/matrix/").json()
    cells = {(cell["destination"], cell["origin"]): cell for cell in body["cells"]}
    assert {"CN", "CL", "VN", "KZ", "HU", "AE", "PK", "RW", "KH"} <= set(body["countries"])
    assert (cells["CN", "CL"]["state"], cells["CN", "CL"]["reciprocal"]) == ("recognized", True)
    assert (cells["CN", "VN"]["state"], cells["CN", "VN"]["reciprocal"]) == ("recognized", False)
    assert cells["HU", "CN"]["state"] == "suspended"
    assert cells["CN", "AE"]["state"] == "none"  # its window ended
    assert cells["CN", "RW"]["state"] == "none"  # a draft
    assert cells["CN", "KH"]["state"] == "cannot_succeed"  # KH may issue at most low, CN asks substantial
    page = _regulator().get("/recognition/matrix/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "China" in html and "Chile" in html and "Rwanda" in html
