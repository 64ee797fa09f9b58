"""The admin in a real browser (DESIGN §7).

The China administrator (alice) logs in through the login form, proposes a
key by pasting a public JWK, creates a draft agreement recognizing a second
Chilean authority and proposes its activation with the admin action,
confirmed with a reason; China's second administrator (alice2) approves
both, and the history names each of them; the Chile administrator (bob)
opens it read-only only; the regulator (rita) sees the China-Chile cell of
the recognition matrix go from partly recognized (before) to recognized (now).

The server is pytest-django's `live_server` (a thread of this process, data
committed: the test is transactional). Every step waits for its navigation or
for an element; nothing sleeps. Screenshots: artifacts/e2e/<test>/NN-step.png.
"""

import json
import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from core.instants import iso
from identity.jose.jwk import thumbprint
from identity.jose.key_files import public_jwk_of
from identity.models import AuthorityKey
from identity.services.authorities import authority_create
from identity.services.keys import key_register
from recognition.models import RecognitionAgreement
from tests.e2e.browser import chromium, log_in
from tests.support.actors import build_world

pytestmark = pytest.mark.slow

SECOND_CL_ISSUER = "https://sii-cl.test/issuer"
SECOND_CL_NAME = "Servicio de Impuestos Internos de Prueba"
LEGAL_BASIS = "CN-CL e-commerce cooperation memorandum (2016), tax registry annex"


def success_messages(page) -> str:
    return " ".join(page.locator("ul.messagelist li").all_inner_texts())


def approve(page, proposal_url: str, reason: str) -> None:
    """A second administrator approves the proposal on its page."""
    page.goto(proposal_url)
    with page.expect_navigation():
        page.click("#approve-proposal")
    page.fill("#id_reason", reason)
    with page.expect_navigation():
        page.click("#decide-proposal-form input[type=submit]")
    assert "Approved proposal #" in success_messages(page), success_messages(page)


def matrix_cell(page, destination: str, origin: str) -> str:
    cell = page.locator(f'td[data-destination="{destination}"][data-origin="{origin}"]')
    return cell.get_attribute("data-state")


def test_admins_and_regulator_work_through_the_admin_in_chromium(live_site, screenshots):
    world = build_world()
    second_cl = authority_create(country="CL", name=SECOND_CL_NAME, issuer=SECOND_CL_ISSUER)
    # With a key, or no credential of it could be accepted and no agreement would make it recognized.
    key_register(authority=second_cl, jwk=public_jwk_of(ed25519.Ed25519PrivateKey.generate()))
    # China recognizes one of Chile's two authorities: the cell is partly recognized.
    before = iso(timezone.now())
    jwk = public_jwk_of(ed25519.Ed25519PrivateKey.generate())
    kid = thumbprint(jwk)
    shot = screenshots
    base = live_site

    with chromium() as browser:
        # 1. alice, China's administrator, logs in through the login form.
        alice = log_in(browser, base, "alice")
        shot(alice, "cn-admin-logged-in")

        # 2. She proposes a key of China's authority by pasting a public JWK:
        # registering a key widens trust, so a second administrator approves it.
        alice.goto("/admin/identity/authoritykey/add/")
        alice.select_option("#id_authority", label=str(world.cn.authority))
        alice.fill("#id_jwk", json.dumps(jwk, indent=2))
        alice.fill("#id_reason", "China's signing key for 2026")
        shot(alice, "cn-admin-pastes-jwk")
        with alice.expect_navigation():
            alice.click("input[name=_save]")
        assert re.fullmatch(rf"{base}/admin/accounts/proposal/\d+/change/", alice.url), success_messages(alice)
        assert "awaits a second CN administrator" in success_messages(alice)
        assert "Awaiting approval by another CN administrator." in alice.locator("#proposal-decision").inner_text()
        key_proposal = alice.url
        shot(alice, "cn-admin-key-proposed")
        alice2 = log_in(browser, base, "alice2")
        approve(alice2, key_proposal, "thumbprint checked with the bureau")
        alice2.goto("/admin/identity/authoritykey/")
        assert alice2.locator("#result_list").get_by_text(kid, exact=True).count() == 1
        shot(alice2, "cn-admin2-key-approved")

        # 3. She creates a draft agreement recognizing Chile's second authority.
        alice.goto("/admin/recognition/recognitionagreement/add/")
        assert alice.locator("#id_destination option").all_inner_texts() == ["China"]
        alice.select_option("#id_authority", label=str(second_cl))
        # The filter_horizontal widget (JavaScript): move the type to "Chosen".
        alice.select_option("#id_credential_types_from", label="Merchant identity (merchant-identity)")
        alice.click("#id_credential_types_add")
        assert alice.locator("#id_credential_types_to option").all_inner_texts() == [
            "Merchant identity (merchant-identity)"
        ]
        alice.select_option("#id_min_assurance", "substantial")
        alice.fill("#id_valid_from_0", (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d"))
        alice.fill("#id_valid_from_1", "00:00:00")
        alice.fill("#id_legal_basis", LEGAL_BASIS)
        shot(alice, "cn-admin-agreement-form")
        with alice.expect_navigation():
            alice.click("input[name=_save]")
        assert alice.url == f"{base}/admin/recognition/recognitionagreement/", success_messages(alice)
        assert "was added successfully" in success_messages(alice)
        added = alice.locator("ul.messagelist a").first.get_attribute("href")
        agreement_id = int(re.fullmatch(r"/admin/recognition/recognitionagreement/(\d+)/change/", added).group(1))
        row = alice.locator("#result_list tbody tr").filter(has=alice.locator(f'input[value="{agreement_id}"]'))
        assert row.locator("td.field-status").inner_text() == "Draft"
        shot(alice, "cn-admin-agreement-draft")

        # 4. She proposes its activation with the admin action, confirmed with a reason.
        row.locator("input.action-select").check()
        alice.select_option("select[name=action]", "activate")
        with alice.expect_navigation():
            alice.click("button[name=index]")
        confirmation = alice.locator("#action-rows").inner_text()
        assert "Draft → Active" in confirmation and "needs approval by a second administrator of CN" in confirmation
        alice.fill("#id_reason", "tax registry annex signed")
        shot(alice, "cn-admin-confirms-activation")
        with alice.expect_navigation():
            alice.click("#confirm-action-form input[type=submit]")
        assert "awaits a second CN administrator" in success_messages(alice)
        assert row.locator("td.field-status").inner_text() == "Draft"
        activation_proposal = alice.locator("ul.messagelist a").first.get_attribute("href")
        approve(alice2, activation_proposal, "annex checked")
        alice2.goto("/admin/recognition/recognitionagreement/")
        assert alice2.locator(f'input.action-select[value="{agreement_id}"]').count() == 1
        shot(alice2, "cn-admin2-agreement-activated")

        # 5. The history names who did what and why: alice created it, alice2 activated it.
        alice.goto(f"/admin/recognition/recognitionagreement/{agreement_id}/history/")
        versions = alice.locator("#change-history tbody tr")
        assert versions.count() == 2
        assert re.search(r"\balice2\b", versions.first.inner_text()), versions.first.inner_text()
        assert "proposed by alice: tax registry annex signed" in versions.first.inner_text()
        assert re.search(r"\balice\b", versions.last.inner_text()), versions.last.inner_text()
        assert "draft" in versions.first.inner_text() and "active" in versions.first.inner_text()
        shot(alice, "cn-admin-agreement-history")

        # 6. bob, Chile's administrator, cannot change it: agreements are
        # public (DESIGN §10), so it opens read-only and says whose it is.
        bob = log_in(browser, base, "bob")
        bob.goto(f"/admin/recognition/recognitionagreement/{agreement_id}/change/")
        assert bob.url == f"{base}/admin/recognition/recognitionagreement/{agreement_id}/change/"
        assert "belongs to China (CN)'s administrators" in success_messages(bob)
        assert bob.locator("input[name=_save]").count() == 0
        shot(bob, "cl-admin-change-refused")
        bob.goto("/admin/recognition/recognitionagreement/")
        assert bob.locator(f'input.action-select[value="{agreement_id}"]').count() == 0
        shot(bob, "cl-admin-agreement-list")

        # 7. rita, the regulator, reads the matrix before and now.
        rita = log_in(browser, base, "rita")
        rita.goto(f"/recognition/matrix/?at={before}")
        assert matrix_cell(rita, "CN", "CL") == "partly_recognized"
        shot(rita, "regulator-matrix-before")
        rita.goto("/recognition/matrix/")
        assert matrix_cell(rita, "CN", "CL") == "recognized"
        assert matrix_cell(rita, "CL", "CN") == "none"
        shot(rita, "regulator-matrix-now")

    # What the browser did, as the database recorded it.
    key = AuthorityKey.objects.get(kid=kid)
    assert key.authority == world.cn.authority and key.history.latest().history_user == world.alice2
    agreement = RecognitionAgreement.objects.get(pk=agreement_id)
    assert (agreement.destination, agreement.authority, agreement.status) == ("CN", second_cl, "active")
    assert [version.history_user for version in agreement.history.all()] == [world.alice2, world.alice]
    assert len(shot.taken) == 13 and all(path.stat().st_size > 0 for path in shot.taken)
