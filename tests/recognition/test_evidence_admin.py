"""The "Download evidence" link of a decision's admin page (DESIGN §11):
regulators and the superuser see it and get the very document the API
serves, as an attachment, that verify_evidence accepts; a country
administrator sees their country's decisions (the admin's scoping) without
the link and is refused the download, and another country's decision is out
of their scope altogether; a decision not yet in the served checkpoint is
explained, not a 500."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_create, user_create_with_role
from recognition.log.evidence import check
from recognition.log.integrator import integrate_all
from recognition.log.keys import log_key
from recognition.models import Verification
from tests.support.admin import change_url, client_for, is_read_only_page, messages_of
from tests.support.api import Api, keyed
from tests.support.evidence import cosigned_by, decided, evidence_url, witness
from tests.support.tokens import sign

WITNESS = witness("cn-regulator-witness")
LINK = "Download evidence"


@pytest.fixture
def platform(world) -> Api:
    return Api(client=APIClient(), key=api_key_create(name="shop-platform", role="platform")[1])


@pytest.fixture
def cn_decision(world, platform, settings, monkeypatch) -> Verification:
    """China accepted a Chilean credential (destination CN: alice's country)."""
    cosigned_by(monkeypatch, [WITNESS])
    return Verification.objects.get(id=decided(platform, settings, sign(world.cl)))


def download_url(row: Verification) -> str:
    return f"/admin/recognition/verification/{row.pk}/evidence/"


@pytest.mark.parametrize("username", ["rita", "root"])
def test_a_regulator_downloads_the_same_document_the_api_serves(world, platform, cn_decision, username):
    client = client_for(getattr(world, username))
    page = client.get(change_url(cn_decision))
    assert is_read_only_page(page)
    assert f'<a href="{download_url(cn_decision)}">{LINK}</a>' in page.content.decode()
    download = client.get(download_url(cn_decision))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == f'attachment; filename="evidence-{cn_decision.pk}.json"'
    assert download.content == keyed(platform.key).get(evidence_url(cn_decision.pk)).content
    outcome = check(download.content, log_keys=[log_key().vkey], witness_keys=[WITNESS.vkey])
    assert outcome.failures == []
    assert json.loads(download.content)["decision"]["id"] == str(cn_decision.pk)


def test_a_country_administrator_sees_their_decision_without_the_link_and_cannot_download(world, cn_decision):
    alice = client_for(world.alice)  # CN: the decision is hers to see
    page = alice.get(change_url(cn_decision))
    assert is_read_only_page(page)
    assert LINK not in page.content.decode()
    assert alice.get(download_url(cn_decision)).status_code == 403
    bob = client_for(world.bob)  # CL: the credential is Chilean, so he sees the decision, not its evidence
    assert is_read_only_page(bob.get(change_url(cn_decision)))
    assert bob.get(download_url(cn_decision)).status_code == 403
    stranger = client_for(user_create_with_role(username="kim", role=Role.COUNTRY_ADMIN, country="KZ")[0])
    assert stranger.get(change_url(cn_decision)).status_code == 302  # out of scope, as the download
    assert stranger.get(download_url(cn_decision)).status_code == 404


def test_staff_without_a_role_and_visitors_get_nothing(world, cn_decision):
    assert APIClient().get(download_url(cn_decision)).status_code == 302  # to the login page
    assert client_for(world.rita).get("/admin/recognition/verification/not-a-uuid/evidence/").status_code == 404


def test_a_decision_not_yet_in_the_served_checkpoint_is_explained(world, platform, monkeypatch):
    cosigned_by(monkeypatch, [WITNESS])
    integrate_all()  # a checkpoint signed before the decision, and the next not due yet
    row = Verification.objects.get(id=platform.verify(sign(world.cl), "CN").json()["id"])
    rita = client_for(world.rita)
    refused = rita.get(download_url(row))
    assert refused.status_code == 302 and refused["Location"] == change_url(row)
    assert any("No evidence yet" in message and "no served checkpoint" in message for message in messages_of(refused))
