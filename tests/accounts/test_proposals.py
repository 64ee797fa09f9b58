"""Four-eyes (README, Four-eyes approval): a country administrator's widening
of trust is a proposal that only another administrator of the same country
approves; the approval applies it through the same service, with history
naming both people; nobody else decides it, and it goes stale when its
target changes."""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Proposal
from accounts.proposals import (
    StaleProposal,
    approve,
    decide_refusal,
    is_stale,
    needs_second_person,
    refuse,
    withdraw,
)
from accounts.services import user_create_with_role
from identity.services.authorities import authority_revoke
from recognition.models import LogEntry, RecognitionAgreement
from recognition.services.agreements import (
    agreement_activate,
    agreement_create,
    agreement_suspend,
    agreement_update_terms,
)


def draft(world):
    return agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        min_assurance="substantial",
        legal_basis="CN-KZ memorandum (2024)",
    )


def proposed_activation(world):
    agreement = draft(world)
    proposal = agreement_activate(agreement=agreement, user=world.alice, reason="memorandum signed")
    return agreement, proposal


def history(agreement):
    return list(RecognitionAgreement.history.filter(id=agreement.pk).order_by("history_id"))


def test_who_needs_a_second_person(world):
    assert needs_second_person(world.alice)
    assert not needs_second_person(world.root)
    assert not needs_second_person(world.rita)
    assert not needs_second_person(None)


def test_a_country_administrators_activation_is_a_proposal(world):
    agreement, proposal = proposed_activation(world)
    assert isinstance(proposal, Proposal)
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    assert (proposal.status, proposal.country.code, proposal.proposed_by) == ("pending", "CN", world.alice)
    assert (
        proposal.summary == f"Activate agreement #{agreement.pk}: China recognizes Business Registry Test Centre (KZ)"
    )
    assert proposal.target_version == history(agreement)[-1].history_id
    assert proposal.history.latest("history_id").history_change_reason == "proposed: memorandum signed"


def test_a_proposal_needs_a_reason_and_writes_nothing_without_one(world):
    agreement = draft(world)
    with pytest.raises(ValidationError, match="give a reason"):
        agreement_activate(agreement=agreement, user=world.alice)
    assert not Proposal.objects.exists()


def test_approval_by_a_second_administrator_applies_it_with_both_names(world):
    agreement, proposal = proposed_activation(world)
    result = approve(proposal=proposal, user=world.alice2, reason="checked the memorandum")
    agreement.refresh_from_db()
    assert result == agreement and agreement.status == "active"
    latest = history(agreement)[-1]
    assert latest.history_user == world.alice2
    assert latest.history_change_reason == (
        f"status active: approved proposal #{proposal.pk} proposed by alice: memorandum signed"
    )
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_reason) == (
        "approved",
        world.alice2,
        "checked the memorandum",
    )
    assert proposal.result == {"agreement": agreement.pk, "status": "active"}
    assert proposal.decided_at is not None


@pytest.mark.parametrize("who", ["alice", "bob", "rita", "root"])
def test_only_another_administrator_of_the_country_decides(world, who):
    agreement, proposal = proposed_activation(world)
    user = getattr(world, who)
    expected = "you proposed" if who == "alice" else "only another administrator of CN"
    assert expected in decide_refusal(proposal, user)
    with pytest.raises(ValidationError, match=expected):
        approve(proposal=proposal, user=user)
    with pytest.raises(ValidationError, match=expected):
        refuse(proposal=proposal, user=user, reason="no")
    agreement.refresh_from_db()
    proposal.refresh_from_db()
    assert (agreement.status, proposal.status) == ("draft", "pending")


def test_an_inactive_administrator_cannot_approve(world):
    _, proposal = proposed_activation(world)
    world.alice2.is_active = False
    world.alice2.save()
    assert decide_refusal(proposal, world.alice2) is not None
    with pytest.raises(ValidationError, match="only another administrator of CN"):
        approve(proposal=proposal, user=world.alice2)


def test_refusal_needs_a_reason_and_leaves_the_target_unchanged(world):
    agreement, proposal = proposed_activation(world)
    with pytest.raises(ValidationError, match="say why"):
        refuse(proposal=proposal, user=world.alice2, reason=" ")
    refused = refuse(proposal=proposal, user=world.alice2, reason="the memorandum is not ratified")
    assert (refused.status, refused.decided_by) == ("refused", world.alice2)
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    with pytest.raises(ValidationError, match="is refused; only a pending proposal"):
        approve(proposal=refused, user=world.alice2)


def test_only_the_proposer_withdraws(world):
    _, proposal = proposed_activation(world)
    with pytest.raises(ValidationError, match="only alice"):
        withdraw(proposal=proposal, user=world.alice2)
    assert withdraw(proposal=proposal, user=world.alice, reason="wrong draft").status == "withdrawn"
    with pytest.raises(ValidationError, match="is withdrawn"):
        withdraw(proposal=proposal, user=world.alice)


def test_a_second_pending_proposal_for_the_same_change_is_refused_naming_the_first(world):
    agreement, proposal = proposed_activation(world)
    second_admin = user_create_with_role(username="chen", role="country_admin", country="CN", password=None)[0]
    with pytest.raises(ValidationError, match=f"proposal #{proposal.pk} .* already awaits approval"):
        agreement_activate(agreement=agreement, user=second_admin, reason="again")
    withdraw(proposal=proposal, user=world.alice)
    assert agreement_activate(agreement=agreement, user=second_admin, reason="again").status == "pending"


def test_a_proposal_goes_stale_when_its_target_changes(world):
    agreement, proposal = proposed_activation(world)
    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity],
        legal_basis="Amended memorandum",
        user=world.bob,
    )
    assert is_stale(proposal)
    with pytest.raises(StaleProposal, match=f"proposal #{proposal.pk} is stale: .*terms changed, by bob"):
        approve(proposal=proposal, user=world.alice2)
    proposal.refresh_from_db()
    agreement.refresh_from_db()
    assert (proposal.status, agreement.status) == ("stale", "draft")


def test_approval_rechecks_what_the_direct_path_checks(world):
    agreement, proposal = proposed_activation(world)
    authority_revoke(authority=world.kz.authority, reason="licence withdrawn")
    with pytest.raises(ValidationError, match="is revoked"):
        approve(proposal=proposal, user=world.alice2)
    agreement.refresh_from_db()
    proposal.refresh_from_db()
    assert (agreement.status, proposal.status) == ("draft", "pending")


def test_a_proposal_is_refused_outside_the_proposers_country(world):
    # alice cannot propose for Chile's agreements by calling the service either.
    agreement = agreement_create(
        destination="CL",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CL-KZ memorandum",
    )
    with pytest.raises(ValidationError, match="does not administer CL"):
        agreement_activate(agreement=agreement, user=world.alice, reason="x")


def test_proposals_approvals_and_refusals_become_log_entries(world):
    _, proposal = proposed_activation(world)
    approve(proposal=proposal, user=world.alice2)
    _, other = proposed_activation_of_reinstatement(world)
    refuse(proposal=other, user=world.alice2, reason="not yet")
    reasons = [
        body["reason"]
        for body in (entry_body(entry) for entry in LogEntry.objects.all())
        if body.get("model") == "accounts.proposal"
    ]
    assert reasons == [
        "proposed: memorandum signed",
        "approved",
        "proposed: resumed",
        "refused: not yet",
    ]


def proposed_activation_of_reinstatement(world):
    agreement = world.cn_recognizes_cl
    agreement_suspend(agreement=agreement, user=world.alice, reason="review")
    return agreement, agreement_activate(agreement=agreement, user=world.alice, reason="resumed")


def entry_body(entry):
    return json.loads(bytes(entry.body))


def test_narrowing_is_immediate_for_a_country_administrator(world):
    agreement = agreement_suspend(agreement=world.cn_recognizes_cl, user=world.alice, reason="review")
    assert agreement.status == "suspended"
    assert not Proposal.objects.exists()


def test_the_superuser_and_the_operator_act_directly(world):
    agreement = draft(world)
    assert agreement_activate(agreement=agreement, user=world.root, reason="signed").status == "active"
    agreement_suspend(agreement=agreement, user=None)
    assert agreement_activate(agreement=agreement, user=None).status == "active"
    assert not Proposal.objects.exists()
