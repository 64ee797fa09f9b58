"""The administrators' console, workflow by workflow, in Debian's Chromium
(README, The admin and its roles): a proposal approved by a second CN
administrator, self-approval refused, a stale proposal refused, a narrowing
confirmed with a reason, the warning on an agreement that cannot succeed,
China's trust list, and Chile's administrator reading the decisions about
Chilean credentials and downloading them as CSV.

Each test prepares its data before the browser opens and checks the database
after it closes (tests/e2e/browser.py); every page is screenshotted and
checked with axe-core, at 1400 px, under artifacts/e2e/<test>/. With
`E2E_README_IMAGES=1` the first test also writes the README's two pictures
of the workflow to docs/images/.
"""

import csv
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.utils import timezone

from accounts.models import Proposal, ProposalStatus
from identity.jose.key_files import public_jwk_of
from identity.models import Authority
from identity.services.authorities import authority_create
from identity.services.keys import key_mark_compromised, key_register
from recognition.api.audit import COLUMNS
from recognition.models import AgreementStatus, RecognitionAgreement, Verification
from recognition.services.agreements import agreement_create, agreement_suspend
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.e2e.browser import WIDE, chromium, log_in
from tests.support.actors import World, build_world
from tests.support.admin import change_url, changelist_url, history_url
from tests.support.tokens import claims_for, sign

pytestmark = pytest.mark.slow

README_IMAGES = Path(settings.BASE_DIR) / "docs" / "images"
AGREEMENTS = changelist_url(RecognitionAgreement)


def messages_of(page) -> str:
    return " ".join(page.locator("ul.messagelist li").all_inner_texts())


def proposal_link(page) -> str:
    """The proposal the last message names (its page's path)."""
    href = page.locator("ul.messagelist a", has_text="proposal #").first.get_attribute("href")
    assert re.fullmatch(r"/admin/accounts/proposal/\d+/change/", href), href
    return href


def run_action(page, agreement: RecognitionAgreement, action: str) -> None:
    """Select the agreement's row in the list and pick the action: the confirmation page opens."""
    page.locator(f'input.action-select[value="{agreement.pk}"]').check()
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")


def confirm(page, reason: str) -> None:
    page.fill("#id_reason", reason)
    with page.expect_navigation():
        page.click("#confirm-action-form input[type=submit]")


def decide(page, shot, button: str, reason: str, step: str) -> None:
    """Approve or refuse the proposal whose page is open: its confirmation page, a reason, confirmed."""
    with page.expect_navigation():
        page.click(f"#{button}-proposal")
    page.fill("#id_reason", reason)
    shot.look(page, step)
    with page.expect_navigation():
        page.click("#decide-proposal-form input[type=submit]")


def history_rows(page) -> list[str]:
    return page.locator("#change-history tbody tr").all_inner_texts()


def status_cell(page, agreement: RecognitionAgreement) -> str:
    row = page.locator("#result_list tbody tr").filter(has=page.locator(f'input[value="{agreement.pk}"]'))
    return row.locator("td.field-status").inner_text()


def matrix_state(page, destination: str, origin: str) -> str:
    return page.locator(f'td[data-destination="{destination}"][data-origin="{origin}"]').get_attribute("data-state")


def readme_image(page, name: str) -> None:
    """The page as the README shows it: 1400 px wide, cut below the content."""
    if os.environ.get("E2E_README_IMAGES") != "1":
        return
    box = page.locator("#content").bounding_box()
    README_IMAGES.mkdir(parents=True, exist_ok=True)
    height = box["y"] + box["height"] + 24
    page.screenshot(
        path=str(README_IMAGES / name), full_page=True, clip={"x": 0, "y": 0, "width": WIDE, "height": height}
    )


def make_agreement(world: World, destination: str, authority: Authority, min_assurance: str, **options):
    """An agreement for merchant identity from yesterday on, made by the operator (a draft unless activate=True)."""
    return agreement_create(
        destination=destination,
        authority=authority,
        credential_types=[world.merchant_identity],
        min_assurance=min_assurance,
        legal_basis=f"{destination}-{authority.country.code} e-commerce cooperation memorandum",
        valid_from=timezone.now() - timedelta(days=1),
        **options,
    )


def draft_agreement(world: World) -> RecognitionAgreement:
    """A draft in which China recognizes Kazakhstan's authority: activating it widens trust."""
    return make_agreement(world, "CN", world.kz.authority, "substantial")


def low_assurance_authority() -> Authority:
    """Cambodia's authority, with a key, accredited to issue at most low."""
    authority = authority_create(
        country="KH", name="Commerce Registration Test Office", issuer="https://moc-kh.test/issuer", max_assurance="low"
    )
    key_register(authority=authority, jwk=public_jwk_of(ed25519.Ed25519PrivateKey.generate()))
    return authority


def test_two_cn_administrators_propose_and_approve_an_activation(live_site, screenshots):
    world = build_world()
    draft = draft_agreement(world)
    shot = screenshots
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        shot.visit(alice, AGREEMENTS, "cn-admin-agreements")
        assert status_cell(alice, draft) == "Draft"
        run_action(alice, draft, "activate")
        rows = alice.locator("#action-rows tbody tr")
        assert rows.count() == 1 and f"agreement #{draft.pk}, draft" in rows.first.inner_text()
        assert "Draft → Active" in rows.first.inner_text()
        assert "needs approval by a second administrator of CN" in rows.first.inner_text()
        alice.fill("#id_reason", "memorandum signed in Astana")
        shot.look(alice, "cn-admin-confirms-activation")
        readme_image(alice, "console-widening-confirmation.png")
        with alice.expect_navigation():
            alice.click("#confirm-action-form input[type=submit]")
        assert "awaits a second CN administrator" in messages_of(alice)
        assert status_cell(alice, draft) == "Draft"
        proposal = proposal_link(alice)
        shot.look(alice, "cn-admin-activation-proposed")
        shot.visit(alice, proposal, "cn-admin-own-proposal")
        change = alice.locator(".field-what_will_change tbody tr").inner_text().split("\t")
        assert change == ["Status", "Draft", "Active"], change

        alice2 = log_in(browser, live_site, "alice2", width=WIDE)
        shot.visit(alice2, proposal, "cn-admin2-opens-proposal")
        assert alice2.locator("#approve-proposal").is_visible()
        readme_image(alice2, "console-proposal-approve.png")
        decide(alice2, shot, "approve", "checked against the signed memorandum", "cn-admin2-approves")
        assert f"Approved proposal #{proposal.split('/')[-3]}" in messages_of(alice2)
        assert alice2.locator("#proposal-decision #approve-proposal").count() == 0
        shot.look(alice2, "cn-admin2-approved")
        shot.visit(alice2, AGREEMENTS, "cn-admin2-agreements")
        assert status_cell(alice2, draft) == "Active"

        shot.visit(alice, history_url(draft), "cn-admin-agreement-history")
        header = alice.locator("#change-history thead").text_content()
        assert "Changed by" in header and "Change reason" in header
        activation, creation = history_rows(alice)
        assert "alice2" in activation and "proposed by alice: memorandum signed in Astana" in activation
        assert "created" in creation
        shot.visit(alice, proposal.replace("/change/", "/history/"), "cn-admin-proposal-history")
        approval = history_rows(alice)[0]
        assert "alice2" in approval and "approved: checked against the signed memorandum" in approval

    draft.refresh_from_db()
    assert draft.status == AgreementStatus.ACTIVE and draft.history.latest().history_user == world.alice2
    decided = Proposal.objects.get(target_id=draft.pk)
    assert (decided.status, decided.proposed_by, decided.decided_by) == ("approved", world.alice, world.alice2)


def test_the_proposer_cannot_approve_her_own_proposal(live_site, screenshots):
    world = build_world()
    draft = draft_agreement(world)
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        screenshots.visit(alice, AGREEMENTS, "cn-admin-agreements")
        run_action(alice, draft, "activate")
        confirm(alice, "memorandum signed in Astana")
        proposal = proposal_link(alice)
        screenshots.visit(alice, proposal, "cn-admin-own-proposal")
        decision = alice.locator("#proposal-decision")
        assert "Awaiting approval by another CN administrator." in decision.inner_text()
        assert decision.locator("#approve-proposal, #refuse-proposal").count() == 0
        assert decision.locator("#withdraw-proposal").is_visible()
        # The approve URL, posted by hand with her own valid CSRF token.
        token = next(c["value"] for c in alice.context.cookies() if c["name"] == "csrftoken")
        forged = alice.request.post(
            f"{live_site}{proposal.replace('/change/', '/approve/')}",
            form={"csrfmiddlewaretoken": token, "reason": "I approve myself"},
            headers={"Referer": f"{live_site}{proposal}"},
        )
        # Refused and sent back to the proposal's page, which says why.
        assert forged.ok and forged.url == f"{live_site}{proposal}", (forged.status, forged.url)
        assert "You proposed #" in forged.text() and "another administrator of CN must approve" in forged.text()
        screenshots.visit(alice, proposal, "cn-admin-after-forged-approval")
        assert "Awaiting approval by another CN administrator." in decision.inner_text()

    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT and draft.history.count() == 1
    pending = Proposal.objects.get(target_id=draft.pk)
    assert (pending.status, pending.decided_by, pending.history.count()) == (ProposalStatus.PENDING, None, 1)


def test_a_proposal_whose_agreement_changed_is_refused_as_stale(live_site, screenshots):
    world = build_world()
    agreement = agreement_suspend(agreement=world.cn_recognizes_cl, reason="registry audit under way")
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        screenshots.visit(alice, AGREEMENTS, "cn-admin-agreements")
        run_action(alice, agreement, "activate")
        assert "Suspended → Active" in alice.locator("#action-rows").inner_text()
        confirm(alice, "audit closed, nothing found")
        proposal = proposal_link(alice)
        screenshots.visit(alice, proposal, "cn-admin-reinstatement-proposed")
        assert "Reinstate agreement" in alice.locator(".field-summary").inner_text()

        # Meanwhile alice2 rewords the agreement's notes: its terms stay, it changed.
        alice2 = log_in(browser, live_site, "alice2", width=WIDE)
        screenshots.visit(alice2, change_url(agreement), "cn-admin2-opens-agreement")
        assert "Pending proposal #" in messages_of(alice2)
        alice2.fill("#id_notes", "Audit report filed with the bureau.")
        alice2.fill("#id_reason", "audit report reference")
        with alice2.expect_navigation():
            alice2.click("input[name=_save]")
        assert "was changed successfully" in messages_of(alice2), messages_of(alice2)
        screenshots.visit(alice2, proposal, "cn-admin2-opens-stale-proposal")
        assert (
            alice2.locator(".field-status_now")
            .inner_text()
            .endswith("Stale (the target changed since it was proposed)")
        )
        decide(alice2, screenshots, "approve", "looks fine", "cn-admin2-approves-stale")
        refusal = messages_of(alice2)
        assert "is stale" in refusal and "terms changed: audit report reference, by alice2" in refusal, refusal
        screenshots.look(alice2, "cn-admin2-stale-refused")
        assert alice2.locator(".field-status_now").inner_text().endswith("Stale")

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SUSPENDED
    stale = Proposal.objects.get(target_id=agreement.pk)
    assert (stale.status, stale.decided_by) == (ProposalStatus.STALE, world.alice2)


def test_a_suspension_needs_a_reason_and_takes_effect_at_once(live_site, screenshots):
    world = build_world()
    agreement = world.cn_recognizes_cl
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        screenshots.visit(alice, AGREEMENTS, "cn-admin-agreements")
        run_action(alice, agreement, "suspend")
        rows = alice.locator("#action-rows tbody tr")
        assert rows.count() == 1 and f"agreement #{agreement.pk}, active" in rows.first.inner_text()
        assert "Active → Suspended" in rows.first.inner_text()
        assert "Takes effect at once" in rows.first.inner_text()
        screenshots.look(alice, "cn-admin-confirms-suspension")
        # Blanks pass the browser's `required` check; the server refuses them.
        confirm(alice, "   ")
        assert alice.locator("#confirm-action-form .errorlist").inner_text() == "This field is required."
        screenshots.look(alice, "cn-admin-suspension-without-reason")
        confirm(alice, "Chilean registry reports a signing incident")
        assert "Suspended recognition agreement China recognizes" in messages_of(alice)
        assert status_cell(alice, agreement) == "Suspended"
        screenshots.look(alice, "cn-admin-suspended")
        screenshots.visit(alice, history_url(agreement), "cn-admin-agreement-history")
        suspension = history_rows(alice)[0]
        assert "alice" in suspension and "status suspended: Chilean registry reports a signing incident" in suspension

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SUSPENDED and agreement.history.latest().history_user == world.alice
    assert not Proposal.objects.exists()


def test_saving_an_agreement_that_cannot_succeed_warns_and_the_matrix_says_so(live_site, screenshots):
    world = build_world()
    # Cambodia's authority may issue at most low; China recognizes it from low.
    agreement = make_agreement(world, "CN", low_assurance_authority(), "low", activate=True)
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        screenshots.visit(alice, "/recognition/matrix/", "cn-admin-matrix-before")
        assert matrix_state(alice, "CN", "KH") == "recognized"
        # Raising the minimum narrows trust: saved at once, with a reason.
        screenshots.visit(alice, change_url(agreement), "cn-admin-opens-agreement")
        alice.select_option("#id_min_assurance", "substantial")
        alice.fill("#id_reason", "align with the other memoranda")
        with alice.expect_navigation():
            alice.click("input[name=_save]")
        warning = alice.locator("ul.messagelist li.warning").inner_text()
        assert "Every credential under this agreement will be rejected" in warning, messages_of(alice)
        assert "may issue at most low" in warning and "substantial" in warning
        screenshots.look(alice, "cn-admin-saved-with-warning")
        screenshots.visit(alice, "/recognition/matrix/", "cn-admin-matrix-after")
        assert matrix_state(alice, "CN", "KH") == "cannot_succeed"

    agreement.refresh_from_db()
    assert agreement.min_assurance == "substantial" and agreement.status == AgreementStatus.ACTIVE


def test_chinas_trust_list_shows_what_it_recognizes_and_who_recognizes_it(live_site, screenshots):
    world = build_world()
    compromised = key_register(authority=world.cl.authority, jwk=public_jwk_of(ed25519.Ed25519PrivateKey.generate()))
    key_mark_compromised(key=compromised, reason="leaked signing key")
    cannot = make_agreement(world, "CN", low_assurance_authority(), "substantial", activate=True)
    reciprocal = make_agreement(world, "CL", world.cn.authority, "low", activate=True)
    with chromium() as browser:
        alice = log_in(browser, live_site, "alice", width=WIDE)
        alice.click("text=Our trust list")
        assert alice.url == f"{live_site}/recognition/trust/CN/", alice.url
        screenshots.look(alice, "cn-admin-trust-list")
        recognized = alice.locator("#table-we-recognize")
        chile = recognized.locator(f'tr[data-agreement="{world.cn_recognizes_cl.pk}"]')
        assert "Registro de Empresas de Prueba" in chile.inner_text() and "Chile (CL)" in chile.inner_text()
        assert world.cl.key.kid in chile.inner_text() and compromised.kid in chile.inner_text()
        flagged = chile.locator(".trust-keys li", has_text=compromised.kid)
        assert "⚠ Compromised" in flagged.inner_text()
        cambodia = recognized.locator(f'tr[data-agreement="{cannot.pk}"]')
        assert "⚠ No: every credential is rejected" in cambodia.inner_text()
        assert cambodia.locator('[data-problem="assurance_above_accreditation"]').count() == 1
        us = alice.locator("#table-recognize-us")
        assert "Recognize us" in alice.locator("#recognize-us").inner_text()
        row = us.locator(f'tr[data-agreement="{reciprocal.pk}"]')
        assert "Chile (CL)" in row.inner_text() and "Market Regulation Test Bureau" in row.inner_text()


def decisions_about_chile(world: World) -> None:
    """For China's border: a Chilean credential accepted, an expired one
    rejected; for Kazakhstan's own border a Kazakh one, which Chile must not see."""
    now = int(timezone.now().timestamp())
    expired = claims_for(world.cl, iat=now - 7200, nbf=now - 7200, exp=now - 3600)
    verify_credentials(
        [
            VerificationRequest(token=sign(world.cl), destination="CN", origin="CL"),
            VerificationRequest(token=sign(world.cl, expired), destination="CN", origin="CL"),
            VerificationRequest(token=sign(world.kz), destination="KZ"),
        ],
        client="shop-platform",
    )


def test_chiles_administrator_reads_and_exports_decisions_about_chilean_credentials(live_site, screenshots):
    world = build_world()
    decisions_about_chile(world)
    with chromium() as browser:
        bob = log_in(browser, live_site, "bob", width=WIDE)
        screenshots.visit(bob, changelist_url(Verification), "cl-admin-verifications")
        rows = bob.locator("#result_list tbody tr")
        assert rows.count() == 2, rows.all_inner_texts()
        assert all("China (CN)" in text and "Chile (CL)" in text for text in rows.all_inner_texts())
        filters = bob.locator("#changelist-filter")
        with bob.expect_navigation():
            filters.locator("a", has_text="our credentials abroad (origin CL)").click()
        with bob.expect_navigation():
            filters.locator("a", has_text="exp is in the past").click()
        assert rows.count() == 1 and "rejected" in rows.first.inner_text().lower()
        screenshots.look(bob, "cl-admin-verifications-expired")
        with bob.expect_download() as download:
            bob.click("#export-csv")
        exported = Path(download.value.path()).read_text(encoding="utf-8")

    header, *lines = list(csv.reader(io.StringIO(exported)))
    assert tuple(header) == COLUMNS
    assert len(lines) == 1
    line = dict(zip(header, lines[0], strict=True))
    (expired,) = [row for row in Verification.objects.all() if row.reasons == ["expired"]]
    assert (line["id"], line["destination"], line["origin"]) == (str(expired.pk), "CN", "CL")
    assert (line["decision"], line["reasons"], line["issuer"]) == ("rejected", "expired", world.cl.authority.issuer)
