"""Every state-changing admin action is confirmed first, with a reason
(accounts/admin_actions.py): the page lists the exact rows and what will
happen to each, nothing changes before the confirmed POST, and the reason is
kept in history."""

import pytest
from django.test import Client

from accounts.admin_display import display_instant
from core.history import acting_operator
from identity.models import Authority, AuthorityKey, IssuedCredential, Merchant
from identity.services.credentials import credential_issue
from identity.services.merchants import merchant_suspend
from recognition.models import RecognitionAgreement
from tests.support.admin import (
    changelist_url,
    client_for,
    confirm_action,
    history_url,
    latest_history_user,
    messages_of,
    post_action,
)


def latest_reason(obj) -> str:
    return obj.history.filter(id=obj.pk).order_by("history_date", "history_id").last().history_change_reason


def confirmed_post(agreement: RecognitionAgreement, action: str, **extra: str) -> dict:
    return {"action": action, "_selected_action": [str(agreement.pk)], "confirmed": "yes", **extra}


@pytest.fixture
def alice(world) -> Client:
    return client_for(world.alice)


def test_an_action_shows_the_rows_and_what_will_change_and_changes_nothing(world, alice):
    agreement = world.cn_recognizes_cl
    page = post_action(alice, RecognitionAgreement, "suspend", [agreement])

    assert page.templates[0].name == "admin/confirm_action.html"
    html = page.content.decode()
    assert str(agreement) in html
    assert "Active → Suspended" in html
    assert "Takes effect at once" in html
    assert 'name="reason"' in html and 'name="confirmed" value="yes"' in html
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert agreement.history.count() == 1


def test_a_final_change_says_it_cannot_be_undone(world, alice):
    page = post_action(alice, RecognitionAgreement, "terminate", [world.cn_recognizes_cl])
    assert "Active → Terminated" in page.content.decode()
    assert "final: cannot be undone" in page.content.decode()

    page = post_action(alice, AuthorityKey, "retire", [world.cn.key])
    assert "Active → Retired" in page.content.decode()
    assert "final: cannot be undone" in page.content.decode()


def test_a_reversible_change_does_not_say_final(world, alice):
    page = post_action(alice, Merchant, "suspend", [world.cn.merchant])
    assert "Active → Suspended" in page.content.decode()
    assert "final" not in page.content.decode()


def test_rows_that_will_be_refused_are_listed_with_why(world, alice):
    page = post_action(alice, Authority, "suspend", [world.cn.authority, world.cl.authority])
    html = page.content.decode()
    assert "Refused: not yours to change" in html
    assert str(world.cn.authority) in html and str(world.cl.authority) in html

    page = post_action(alice, Merchant, "reinstate", [world.cn.merchant])
    assert "Refused: already Active" in page.content.decode()
    # Nothing can run: no form to confirm.
    assert 'name="confirmed"' not in page.content.decode()


def test_confirmed_with_a_reason_the_change_is_made_and_the_reason_kept(world, alice):
    agreement = world.cn_recognizes_cl
    response = confirm_action(alice, RecognitionAgreement, "suspend", [agreement], reason="partner audit pending")

    agreement.refresh_from_db()
    assert agreement.status == "suspended"
    assert latest_history_user(agreement) == world.alice
    assert latest_reason(agreement) == "status suspended: partner audit pending"
    assert f"Suspended recognition agreement {agreement}." in messages_of(response)


def test_the_reason_is_required(world, alice):
    agreement = world.cn_recognizes_cl
    page = alice.post(changelist_url(RecognitionAgreement), confirmed_post(agreement, "suspend", reason="   "))

    assert page.templates[0].name == "admin/confirm_action.html"
    assert "This field is required." in page.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_an_overlong_reason_is_refused(world, alice):
    agreement = world.cn_recognizes_cl
    page = alice.post(changelist_url(RecognitionAgreement), confirmed_post(agreement, "suspend", reason="x" * 501))

    assert "at most 500 characters" in page.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_cancel_returns_to_the_list(world, alice):
    url = changelist_url(RecognitionAgreement) + "?status__exact=active"
    data = {"action": "terminate", "index": "0", "_selected_action": [str(world.cn_recognizes_cl.pk)]}
    page = alice.post(url, data)

    assert page.context["cancel_url"] == url
    assert f'href="{url.replace("&", "&amp;")}" class="button cancel-link"' in page.content.decode()
    world.cn_recognizes_cl.refresh_from_db()
    assert world.cn_recognizes_cl.status == "active"


def test_a_forged_post_with_a_reason_but_without_confirmation_changes_nothing(world, alice):
    agreement = world.cn_recognizes_cl
    data = {"action": "terminate", "index": "0", "_selected_action": [str(agreement.pk)], "reason": "forged"}
    response = alice.post(changelist_url(RecognitionAgreement), data)

    assert response.templates[0].name == "admin/confirm_action.html"
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_the_confirmed_post_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    agreement = world.cn_recognizes_cl
    response = client.post(changelist_url(RecognitionAgreement), confirmed_post(agreement, "terminate", reason="x"))

    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_the_confirmed_post_checks_again_whose_rows_they_are(world, alice):
    """A row of another country slipped into the confirmed POST is refused."""
    key = world.cl.key
    data = {"action": "retire", "_selected_action": [str(key.pk)], "confirmed": "yes", "reason": "forged"}
    response = alice.post(changelist_url(AuthorityKey), data, follow=True)

    key.refresh_from_db()
    assert key.status == "active"
    assert not any(message.startswith("Retired") for message in messages_of(response))


def test_a_regulator_gets_no_confirmation_page_and_changes_nothing(world):
    rita = client_for(world.rita)
    response = rita.post(changelist_url(RecognitionAgreement), confirmed_post(world.cn_recognizes_cl, "suspend"))

    assert not any(template.name == "admin/confirm_action.html" for template in response.templates)
    world.cn_recognizes_cl.refresh_from_db()
    assert world.cn_recognizes_cl.status == "active"


def test_the_revocation_reason_is_kept_on_the_credential_and_in_history(world, alice):
    credential = credential_issue(
        merchant=world.cn.merchant, private_key=world.cn.private_key, credential_type=world.merchant_identity
    ).credential
    page = post_action(alice, IssuedCredential, "revoke", [credential])
    assert "Valid → Revoked" in page.content.decode()

    confirm_action(alice, IssuedCredential, "revoke", [credential], reason="issued to the wrong merchant")

    credential.refresh_from_db()
    assert (credential.status, credential.reason) == ("revoked", "issued to the wrong merchant")
    record = credential.history.order_by("history_id").last()
    assert (record.history_change_reason, record.reason) == ("revoked", "issued to the wrong merchant")


def test_several_rows_are_each_named_in_the_messages(world, alice):
    response = confirm_action(alice, Authority, "suspend", [world.cn.authority, world.cl.authority], reason="audit")

    shown = messages_of(response)
    assert f"Suspended authority {world.cn.authority}." in shown
    assert f"authority {world.cl.authority}: not yours to change" in shown
    world.cl.authority.refresh_from_db()
    assert world.cl.authority.status == "active"


def test_the_history_page_shows_who_changed_it_and_why(world, alice):
    agreement = world.cn_recognizes_cl
    confirm_action(alice, RecognitionAgreement, "suspend", [agreement], reason="partner audit pending")

    html = alice.get(history_url(agreement)).content.decode()
    assert "status suspended: partner audit pending" in html
    assert ">alice<" in html.replace("\n", "").replace(" ", "")
    record = agreement.history.order_by("history_id").last()
    # To the second in UTC, marked for the reader's local time like every admin list.
    assert display_instant(record.history_date) in html


def test_the_history_page_names_the_command_line_operator_when_no_user_changed_it(world, alice):
    with acting_operator("ops-jane"):
        merchant_suspend(merchant=world.cn.merchant, reason="court order")

    html = alice.get(history_url(world.cn.merchant)).content.decode()
    assert "ops-jane (command line)" in html
    assert "status suspended: court order" in html


def test_an_action_that_records_no_reason_is_confirmed_without_one(world, alice):
    page = post_action(alice, RecognitionAgreement, "propose_reciprocal", [world.cn_recognizes_cl]).content.decode()
    assert 'name="confirmed" value="yes"' in page
    assert 'name="reason"' not in page and "Reason for this change" not in page
