"""Four-eyes in the admin: a country administrator's widening of trust
becomes a proposal, shown on its page with the buttons each role may use;
another administrator of the same country approves or refuses it, the
proposer may withdraw it; nobody else decides."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Proposal
from identity.models import AuthorityKey
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create, agreement_update_terms
from tests.support.admin import (
    add_url,
    approve_in_admin,
    change_url,
    changelist_url,
    client_for,
    confirm_action,
    history_url,
    latest_history_user,
    messages_of,
    new_public_jwk,
    post_action,
    terms_post,
)


def decide_url(proposal: Proposal, decision: str) -> str:
    return reverse(f"admin:accounts_proposal_{decision}", args=[proposal.pk])


@pytest.fixture
def draft(world) -> RecognitionAgreement:
    return agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-KZ memorandum",
    )


@pytest.fixture
def alice(world) -> Client:
    return client_for(world.alice)


@pytest.fixture
def alice2(world) -> Client:
    return client_for(world.alice2)


@pytest.fixture
def proposal(world, alice, draft) -> Proposal:
    confirm_action(alice, RecognitionAgreement, "activate", [draft], reason="memorandum signed")
    return Proposal.objects.get()


def test_the_confirmation_says_a_widening_needs_a_second_administrator(world, alice, draft):
    page = post_action(alice, RecognitionAgreement, "activate", [draft]).content.decode()
    assert "Draft → Active" in page
    assert "needs approval by a second administrator of CN" in page

    narrowing = post_action(alice, RecognitionAgreement, "suspend", [world.cn_recognizes_cl]).content.decode()
    assert "needs approval" not in narrowing


def test_a_country_administrators_activation_becomes_a_proposal(world, alice, draft):
    response = confirm_action(alice, RecognitionAgreement, "activate", [draft], reason="memorandum signed")

    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.proposed_by, proposal.reason) == ("pending", world.alice, "memorandum signed")
    assert any(
        "awaits a second CN administrator" in message and f"proposal #{proposal.pk}" in message
        for message in messages_of(response)
    )
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_superuser_activates_directly(world, draft):
    confirm_action(client_for(world.root), RecognitionAgreement, "activate", [draft], reason="by the operator")
    draft.refresh_from_db()
    assert draft.status == "active"
    assert not Proposal.objects.exists()


def test_the_proposer_sees_it_awaits_another_administrator_and_may_withdraw(alice, proposal):
    page = alice.get(change_url(proposal)).content.decode()
    assert proposal.summary in page and "memorandum signed" in page
    assert "Awaiting approval by another CN administrator." in page
    assert 'id="withdraw-proposal"' in page
    assert 'id="approve-proposal"' not in page and 'id="refuse-proposal"' not in page


def test_a_second_administrator_approves_and_the_change_takes_effect(world, alice2, draft, proposal):
    page = alice2.get(change_url(proposal)).content.decode()
    assert 'id="approve-proposal"' in page and 'id="refuse-proposal"' in page
    assert 'id="withdraw-proposal"' not in page
    confirmation = alice2.get(decide_url(proposal, "approve")).content.decode()
    assert proposal.summary in confirmation and "Draft" in confirmation and "Active" in confirmation

    response = alice2.post(decide_url(proposal, "approve"), {"reason": "checked the memorandum"}, follow=True)

    assert any(message.startswith(f"Approved proposal #{proposal.pk}") for message in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == "active"
    assert latest_history_user(draft) == world.alice2
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("approved", world.alice2)


def test_nothing_is_approved_by_opening_the_confirmation(alice2, draft, proposal):
    alice2.get(decide_url(proposal, "approve"))
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_self_approval_is_refused_with_a_clear_message(alice, draft, proposal):
    response = alice.post(decide_url(proposal, "approve"), {"reason": "me again"}, follow=True)

    assert any("another administrator of CN must approve" in message for message in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == "draft"
    proposal.refresh_from_db()
    assert proposal.status == "pending"


@pytest.mark.parametrize("reader", ["rita", "root"])
def test_a_regulator_or_the_superuser_reads_but_cannot_decide(world, reader, draft, proposal):
    client = client_for(getattr(world, reader))
    page = client.get(change_url(proposal)).content.decode()
    assert proposal.summary in page
    assert "Awaiting approval by an administrator of CN other than alice." in page
    assert 'id="approve-proposal"' not in page

    response = client.post(decide_url(proposal, "approve"), {"reason": "forged"}, follow=True)
    assert any("only another administrator of CN" in message for message in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_another_countrys_administrator_sees_none_of_them(world, proposal):
    bob = client_for(world.bob)
    assert proposal.summary not in bob.get(changelist_url(Proposal)).content.decode()
    assert bob.get(change_url(proposal)).status_code in (302, 404)
    assert bob.post(decide_url(proposal, "approve"), {"reason": "forged"}).status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_refusing_needs_a_reason(world, alice2, draft, proposal):
    page = alice2.post(decide_url(proposal, "refuse"), {"reason": ""})
    assert "This field is required." in page.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "pending"

    alice2.post(decide_url(proposal, "refuse"), {"reason": "the memorandum is not ratified"})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_reason) == ("refused", "the memorandum is not ratified")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_only_the_proposer_withdraws(alice, alice2, proposal):
    response = alice2.post(decide_url(proposal, "withdraw"), {}, follow=True)
    assert any("may withdraw it" in message for message in messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == "pending"

    alice.post(decide_url(proposal, "withdraw"), {})
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"
    assert 'id="withdraw-proposal"' not in alice.get(change_url(proposal)).content.decode()


def test_a_proposal_whose_target_changed_shows_stale_and_is_not_applied(world, alice2, draft, proposal):
    agreement_update_terms(
        agreement=draft, credential_types=[world.merchant_identity], notes="edited since", user=world.root
    )
    listed = alice2.get(changelist_url(Proposal)).content.decode()
    assert "Stale (the target changed since it was proposed)" in listed

    response = alice2.post(decide_url(proposal, "approve"), {"reason": "ok"}, follow=True)

    assert any("is stale" in message and "changed since" in message for message in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == "draft"
    proposal.refresh_from_db()
    assert proposal.status == "stale"


def test_the_list_shows_when_it_was_proposed_to_the_second_in_utc(alice, proposal):
    listed = alice.get(changelist_url(Proposal)).content.decode()
    assert f"{proposal.proposed_at:%Y-%m-%d %H:%M:%S} UTC" in listed
    assert "Pending" in listed


def test_widening_terms_in_the_change_form_redirects_to_the_proposal(world, alice):
    agreement = world.cn_recognizes_cl
    post = terms_post(agreement, reason="exports too")
    post["credential_types"] = [world.merchant_identity.pk, world.export_licence.pk]

    response = alice.post(change_url(agreement), post)

    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response.url == change_url(proposal)
    assert set(agreement.credential_types.values_list("code", flat=True)) == {"merchant-identity"}
    page = alice.get(change_url(proposal)).content.decode()
    assert "Credential types" in page and "export-licence, merchant-identity" in page


def test_narrowing_terms_in_the_change_form_applies_at_once(world, alice):
    agreement = world.cn_recognizes_cl
    response = alice.post(change_url(agreement), terms_post(agreement, min_assurance="high", reason="stricter"))

    assert response.status_code == 302 and response.url == changelist_url(RecognitionAgreement)
    agreement.refresh_from_db()
    assert agreement.min_assurance == "high"
    assert not Proposal.objects.exists()


def test_registering_a_key_in_the_admin_is_proposed(world, alice):
    post = {"authority": world.cn.authority.pk, "jwk": json.dumps(new_public_jwk()), "kid": "cn-next"}
    response = alice.post(add_url(AuthorityKey), {**post, "reason": "yearly rotation"}, follow=True)

    proposal = Proposal.objects.get()
    assert response.redirect_chain[-1][0] == change_url(proposal)
    assert any("awaits a second CN administrator" in message for message in messages_of(response))
    assert not AuthorityKey.objects.filter(kid="cn-next").exists()
    assert "New key cn-next" in response.content.decode()


def test_the_targets_page_links_its_pending_proposals(world, alice, draft, proposal):
    for client in (alice, client_for(world.rita)):
        page = client.get(change_url(draft))
        assert any(f"proposal #{proposal.pk}" in message for message in messages_of(page))
        assert change_url(proposal) in page.content.decode()


def test_saving_the_form_untouched_is_no_widening(world, alice):
    """The form shows instants to the second; the stored microseconds are not a change."""
    agreement = world.cn_recognizes_cl
    assert agreement.valid_from.microsecond != 0
    valid_from = agreement.valid_from

    alice.post(change_url(agreement), terms_post(agreement, notes="wording only", reason="note"))

    agreement.refresh_from_db()
    assert (agreement.notes, agreement.valid_from) == ("wording only", valid_from)
    assert not Proposal.objects.exists()


def test_the_proposals_history_shows_who_proposed_and_who_approved(world, alice, alice2, proposal):
    approve_in_admin(alice2, proposal, reason="memorandum checked")

    html = alice.get(history_url(proposal)).content.decode()
    assert "proposed: memorandum signed" in html and "approved: memorandum checked" in html
    assert client_for(world.bob).get(history_url(proposal)).status_code == 404


def test_an_old_version_of_a_proposal_cannot_be_saved_back(world, alice, proposal):
    version = proposal.history.order_by("history_id").first()
    url = reverse("admin:accounts_proposal_simple_history", args=[proposal.pk, version.history_id])
    assert alice.get(url).status_code == 200
    assert alice.post(url, {}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_raising_an_authoritys_maximum_assurance_is_proposed_and_lowering_is_not(world, alice):
    authority = world.cn.authority
    post = {"name": authority.name, "max_assurance": "substantial", "reason": "accreditation narrowed"}
    assert alice.post(change_url(authority), post).status_code == 302
    authority.refresh_from_db()
    assert authority.max_assurance == "substantial" and not Proposal.objects.exists()

    response = alice.post(change_url(authority), {**post, "max_assurance": "high", "reason": "re-accredited"})

    proposal = Proposal.objects.get()
    assert response.url == change_url(proposal)
    authority.refresh_from_db()
    assert authority.max_assurance == "substantial"
    page = alice.get(change_url(proposal)).content.decode()
    assert "Substantial" in page and "High" in page
    assert any(f"proposal #{proposal.pk}" in message for message in messages_of(alice.get(change_url(authority))))


def test_a_long_reason_is_kept_whole_through_the_approval(world, alice, alice2, draft):
    reason = "the memorandum of 2016 was renewed on 2026-11-30; " * 9  # the form allows 500 characters
    confirm_action(alice, RecognitionAgreement, "activate", [draft], reason=reason.strip())

    approve_in_admin(alice2, Proposal.objects.get())

    draft.refresh_from_db()
    record = draft.history.order_by("history_id").last()
    assert draft.status == "active"
    assert record.history_change_reason.endswith(f"proposed by alice: {reason.strip()}")
