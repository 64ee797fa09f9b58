"""Every status change keeps the person's reason in history, after the
"status <to>" prefix that the log and earlier records already use, by the
services and by the status commands' `--reason` (DESIGN §7 syntax unchanged)."""

import pytest
from django.core.management import call_command

from identity.models import Authority, AuthorityKey, IssuedCredential, Merchant
from identity.services.authorities import authority_revoke, authority_set_status, authority_suspend
from identity.services.credentials import credential_issue, credential_revoke
from identity.services.keys import key_mark_compromised, key_retire
from identity.services.merchants import merchant_reinstate, merchant_revoke, merchant_suspend
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_set_status, agreement_suspend, agreement_terminate


def latest_reason(model, pk):
    return model.history.filter(id=pk).latest("history_id").history_change_reason


@pytest.mark.parametrize(
    ("change", "model", "expected"),
    [
        (
            lambda w: authority_suspend(authority=w.kz.authority, reason=" registry  audit "),
            Authority,
            "status suspended: registry audit",
        ),
        (lambda w: authority_revoke(authority=w.kz.authority, reason="closed"), Authority, "status revoked: closed"),
        (
            lambda w: authority_set_status(authority=w.kz.authority, status="suspended", reason="x"),
            Authority,
            "status suspended: x",
        ),
        (
            lambda w: merchant_suspend(merchant=w.cl.merchant, reason="fraud inquiry"),
            Merchant,
            "status suspended: fraud inquiry",
        ),
        (lambda w: merchant_revoke(merchant=w.cl.merchant, reason="dissolved"), Merchant, "status revoked: dissolved"),
        (
            lambda w: agreement_suspend(agreement=w.cn_recognizes_cl, reason="review"),
            RecognitionAgreement,
            "status suspended: review",
        ),
        (
            lambda w: agreement_terminate(agreement=w.cn_recognizes_cl, reason="ended"),
            RecognitionAgreement,
            "status terminated: ended",
        ),
        (
            lambda w: agreement_set_status(agreement=w.cn_recognizes_cl, status="suspended", reason="r"),
            RecognitionAgreement,
            "status suspended: r",
        ),
        (lambda w: key_retire(key=w.cl.key, reason="rotation"), AuthorityKey, "retired: rotation"),
        (lambda w: key_mark_compromised(key=w.cl.key, reason="leaked"), AuthorityKey, "compromised: leaked"),
    ],
)
def test_status_services_keep_the_reason(world, change, model, expected):
    row = change(world)
    assert latest_reason(model, row.pk) == expected


def test_without_a_reason_the_record_keeps_the_plain_prefix(world):
    merchant_suspend(merchant=world.cl.merchant)
    merchant_reinstate(merchant=world.cl.merchant, reason="")
    assert latest_reason(Merchant, world.cl.merchant.pk) == "status active"


def test_credential_revocation_keeps_the_reason_in_its_history_record(world):
    issued = credential_issue(
        merchant=world.cl.merchant,
        private_key=world.cl.private_key,
        credential_type=world.merchant_identity,
    )
    credential_revoke(credential=issued.credential, reason="issued in error")
    latest = IssuedCredential.history.filter(id=issued.credential.pk).latest("history_id")
    assert (latest.history_change_reason, latest.reason) == ("revoked", "issued in error")


def test_status_commands_take_a_reason_and_keep_their_syntax(world):
    issuer = world.cl.authority.issuer
    regno = world.cl.merchant.registration_number
    call_command("set_merchant_status", issuer, regno, "suspended", "--reason", "inquiry")
    assert latest_reason(Merchant, world.cl.merchant.pk) == "status suspended: inquiry"
    call_command("set_merchant_status", issuer, regno, "active")
    assert latest_reason(Merchant, world.cl.merchant.pk) == "status active"
    call_command("set_agreement_status", str(world.cn_recognizes_cl.pk), "suspended", "--reason", "review")
    assert latest_reason(RecognitionAgreement, world.cn_recognizes_cl.pk) == "status suspended: review"
    call_command("set_authority_status", world.kz.authority.issuer, "suspended", "--reason", "audit")
    assert latest_reason(Authority, world.kz.authority.pk) == "status suspended: audit"
    call_command("retire_key", world.kz.authority.issuer, "--reason", "rotation", "--", world.kz.key.kid)
    assert latest_reason(AuthorityKey, world.kz.key.pk) == "retired: rotation"
    call_command("compromise_key", issuer, world.cl.key.kid, "--reason", "leaked")
    assert latest_reason(AuthorityKey, world.cl.key.pk) == "compromised: leaked"
