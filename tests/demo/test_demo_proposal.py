"""The demo's pending proposal (README, Demo data): a first run shows
four-eyes approval. demo-cn-admin proposes that China's agreement with
Hungary (export licences only) cover merchant identity too; demo-cn-admin2
approves or refuses it; load_demo never proposes it again."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Proposal, ProposalStatus
from accounts.proposals import decide_refusal, refuse
from demo.data import HU, PENDING_PROPOSAL
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.services.agreements import agreement_terminate
from tests.support.admin import change_url, client_for, messages_of


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", "--allow-without-debug", stdout=out)
    return out.getvalue()


def user(username: str):
    return get_user_model().objects.get(username=username)


def china_hungary() -> RecognitionAgreement:
    return RecognitionAgreement.objects.get(destination="CN", authority__issuer=HU)


def covered(agreement: RecognitionAgreement) -> set[str]:
    return set(agreement.credential_types.values_list("code", flat=True))


def test_a_first_run_leaves_one_proposal_awaiting_chinas_second_administrator(db):
    output = load_demo()
    proposal = Proposal.objects.get()
    agreement = china_hungary()
    assert (proposal.status, proposal.country, proposal.proposed_by) == ("pending", "CN", user("demo-cn-admin"))
    assert (proposal.target_model, proposal.target_id, proposal.reason) == (
        "recognition.RecognitionAgreement",
        agreement.pk,
        PENDING_PROPOSAL.reason,
    )
    assert "merchant-identity" in proposal.summary
    # Nothing is applied before the approval: the agreement still covers export licences only.
    assert covered(agreement) == {"export-licence"} and agreement.status == AgreementStatus.ACTIVE
    assert decide_refusal(proposal, user("demo-cn-admin2")) is None
    assert "you proposed" in decide_refusal(proposal, user("demo-cn-admin"))
    assert "proposals" in output and "1 created" in output.split("proposals")[1].splitlines()[0]


def test_a_second_run_proposes_nothing_more(db):
    load_demo()
    output = load_demo()
    assert Proposal.objects.count() == 1 and Proposal.objects.get().status == ProposalStatus.PENDING
    assert "Nothing to do" in output


def test_approved_by_the_second_administrator_in_the_admin_and_never_proposed_again(db):
    load_demo()
    proposal = Proposal.objects.get()
    approve_url = reverse("admin:accounts_proposal_approve", args=[proposal.pk])
    response = client_for(user("demo-cn-admin2")).post(approve_url, {"reason": "checked with Budapest"}, follow=True)
    assert f"Approved proposal #{proposal.pk}: {proposal.summary}." in messages_of(response)
    assert covered(china_hungary()) == {"export-licence", "merchant-identity"}
    assert china_hungary().history.latest().history_user == user("demo-cn-admin2")

    assert "Nothing to do" in load_demo()
    assert Proposal.objects.count() == 1 and Proposal.objects.get().status == ProposalStatus.APPROVED


def test_refused_it_stays_refused_and_a_later_run_does_not_fail(db):
    load_demo()
    refuse(proposal=Proposal.objects.get(), user=user("demo-cn-admin2"), reason="Hungary has not confirmed yet")
    load_demo()
    assert list(Proposal.objects.values_list("status", flat=True)) == [ProposalStatus.REFUSED]
    assert covered(china_hungary()) == {"export-licence"}


def test_a_run_on_a_database_where_the_agreement_has_ended_proposes_nothing(db, monkeypatch):
    # A database loaded before the demo had a proposal, whose agreement was terminated since.
    monkeypatch.setattr("demo.loader.PENDING_PROPOSAL", PENDING_PROPOSAL.__class__("nobody", "CN", HU, (), ""))
    load_demo()
    monkeypatch.undo()
    agreement_terminate(agreement=china_hungary(), reason="memorandum lapsed")
    assert "Nothing to do" in load_demo()
    assert not Proposal.objects.exists()


def test_its_page_shows_demo_cn_admin2_the_approve_button(db):
    load_demo()
    page = client_for(user("demo-cn-admin2")).get(change_url(Proposal.objects.get())).content.decode()
    assert 'id="approve-proposal"' in page and "Awaiting approval" not in page
