"""The commands under four-eyes (README, Four-eyes approval): `--as USER`
makes a change as that user, in their scope, a country administrator's
widening becoming a proposal; `proposals` lists and decides them; without
`--as` the operator acts directly and history keeps their OS login."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management.base import CommandError

from accounts.models import Proposal
from identity.jose.jwk import thumbprint
from identity.jose.key_files import public_jwk_of
from identity.models import Authority, AuthorityKey
from recognition.models import LogEntry, RecognitionAgreement
from recognition.services.agreements import agreement_suspend
from tests.support.cli import call


def new_jwk() -> dict:
    return public_jwk_of(ed25519.Ed25519PrivateKey.generate())


def latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def suspended_agreement(world) -> RecognitionAgreement:
    return agreement_suspend(agreement=world.cn_recognizes_cl, user=world.alice, reason="review")


def test_a_country_administrators_reinstatement_by_command_is_a_proposal(world):
    agreement = suspended_agreement(world)
    out = call("set_agreement_status", agreement.pk, "active", "--as", "alice", "--reason", "review closed")
    proposal = Proposal.objects.get()
    assert out.stdout == ""
    assert f"proposal #{proposal.pk} awaits approval" in out.stderr
    agreement.refresh_from_db()
    assert agreement.status == "suspended"

    listed = call("proposals", "--status", "pending").lines
    assert listed == [f"{proposal.pk}\tCN\tpending\t{proposal.summary}\talice"]

    call("proposals", "--approve", proposal.pk, "--as", "alice2", "--reason", "agreed")
    agreement.refresh_from_db()
    assert agreement.status == "active"
    record = latest(RecognitionAgreement, agreement.pk)
    assert record.history_user == world.alice2
    assert record.history_change_reason.startswith(f"status active: approved proposal #{proposal.pk} proposed by alice")
    assert call("proposals", "--status", "pending").lines == []
    assert call("proposals", "--country", "CN").lines == [f"{proposal.pk}\tCN\tapproved\t{proposal.summary}\talice"]


def test_self_approval_by_command_is_refused(world):
    agreement = suspended_agreement(world)
    call("set_agreement_status", agreement.pk, "active", "--as", "alice", "--reason", "closed")
    proposal = Proposal.objects.get()
    with pytest.raises(CommandError, match="you proposed"):
        call("proposals", "--approve", proposal.pk, "--as", "alice")
    with pytest.raises(CommandError, match="only another administrator of CN"):
        call("proposals", "--approve", proposal.pk, "--as", "root")
    with pytest.raises(CommandError, match="only another administrator of CN"):
        call("proposals", "--approve", proposal.pk, "--as", "bob")


def test_refuse_and_withdraw_by_command(world):
    agreement = suspended_agreement(world)
    call("set_agreement_status", agreement.pk, "active", "--as", "alice", "--reason", "closed")
    first = Proposal.objects.get()
    with pytest.raises(CommandError, match="say why"):
        call("proposals", "--refuse", first.pk, "--as", "alice2")
    out = call("proposals", "--refuse", first.pk, "--as", "alice2", "--reason", "not yet")
    assert f"proposal #{first.pk} refused" in out.stderr
    call("set_agreement_status", agreement.pk, "active", "--as", "alice", "--reason", "now")
    second = Proposal.objects.get(status="pending")
    with pytest.raises(CommandError, match="only alice"):
        call("proposals", "--withdraw", second.pk, "--as", "alice2")
    call("proposals", "--withdraw", second.pk, "--as", "alice")
    assert sorted(Proposal.objects.values_list("status", flat=True)) == ["refused", "withdrawn"]
    agreement.refresh_from_db()
    assert agreement.status == "suspended"


def test_approving_a_stale_proposal_by_command_marks_it_stale(world):
    agreement = suspended_agreement(world)
    call("set_agreement_status", agreement.pk, "active", "--as", "alice", "--reason", "closed")
    proposal = Proposal.objects.get()
    call("set_agreement_status", agreement.pk, "terminated", "--reason", "memorandum ended")
    with pytest.raises(CommandError, match=f"proposal #{proposal.pk} is stale: .*status terminated: memorandum ended"):
        call("proposals", "--approve", proposal.pk, "--as", "alice2")
    proposal.refresh_from_db()
    assert proposal.status == "stale"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--approve", "1"], "--approve needs --as USER"),
        (["--approve", "999", "--as", "alice2"], "no proposal with id 999"),
        (["--approve", "1", "--as", "nobody"], "--as: no user is named 'nobody'"),
        (["--approve", "1", "--as", "rita"], "--as: rita is a regulator, who changes nothing"),
        (["--approve", "x"], "argument --approve: invalid int value: 'x'"),
        (["--approve", "1", "--refuse", "1"], "not allowed with argument"),
        (["--status", "open"], "argument --status: invalid choice"),
    ],
)
def test_proposals_refuses_bad_input_in_one_line(world, args, message):
    with pytest.raises(CommandError, match=message):
        call("proposals", *args)


def test_as_refuses_an_inactive_user_and_a_user_without_a_role(world, django_user_model):
    django_user_model.objects.create_user("plain", password="x-long-enough-password")  # noqa: S106
    world.alice2.is_active = False
    world.alice2.save()
    with pytest.raises(CommandError, match="--as: user 'plain' has no role in the registry"):
        call("set_agreement_status", world.cn_recognizes_cl.pk, "suspended", "--as", "plain")
    with pytest.raises(CommandError, match="--as: user 'alice2' is inactive"):
        call("set_agreement_status", world.cn_recognizes_cl.pk, "suspended", "--as", "alice2")


def test_as_keeps_to_the_users_country(world):
    with pytest.raises(CommandError, match="alice administers CN, not CL"):
        call("set_authority_status", world.cl.authority.issuer, "suspended", "--as", "alice")
    with pytest.raises(CommandError, match="bob administers CL, not CN"):
        call("set_agreement_status", world.cn_recognizes_cl.pk, "suspended", "--as", "bob")
    with pytest.raises(CommandError, match="only the registry operator or the superuser"):
        call("create_credential_type", "food-safety", "--name", "Food safety", "--as", "alice")
    world.cl.authority.refresh_from_db()
    assert world.cl.authority.status == "active"


def test_narrowing_by_command_as_an_administrator_is_immediate_and_names_them(world):
    call("set_agreement_status", world.cn_recognizes_cl.pk, "suspended", "--as", "alice", "--reason", "review")
    record = latest(RecognitionAgreement, world.cn_recognizes_cl.pk)
    assert (record.status, record.history_user, record.history_change_reason) == (
        "suspended",
        world.alice,
        "status suspended: review",
    )


def test_create_agreement_activate_as_an_administrator_makes_the_draft_and_proposes(world):
    out = call(
        "create_agreement", "--destination", "CN", "--issuer", world.kz.authority.issuer, "--types",
        "merchant-identity", "--min-assurance", "substantial", "--legal-basis", "CN-KZ memorandum", "--activate",
        "--as", "alice", "--reason", "memorandum signed",
    )  # fmt: skip
    agreement = RecognitionAgreement.objects.get(pk=int(out.stdout))
    proposal = Proposal.objects.get()
    assert agreement.status == "draft" and proposal.target_id == agreement.pk
    assert f"proposal #{proposal.pk} awaits approval" in out.stderr
    call("proposals", "--approve", proposal.pk, "--as", "alice2")
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_create_authority_key_as_an_administrator_prints_the_kid_and_proposes(world, tmp_path):
    out = call(
        "create_authority_key", world.cn.authority.issuer, "--alg", "EdDSA", "--private-key-out", tmp_path / "k.pem",
        "--as", "alice", "--reason", "rotation",
    )  # fmt: skip
    kid = out.stdout.strip()
    assert (tmp_path / "k.pem").exists()
    assert not AuthorityKey.objects.filter(kid=kid).exists()
    proposal = Proposal.objects.get()
    assert f"proposal #{proposal.pk} awaits approval" in out.stderr
    call("proposals", "--approve", proposal.pk, "--as", "alice2")
    key = AuthorityKey.objects.get(kid=kid)
    assert (key.authority, latest(AuthorityKey, key.pk).history_user) == (world.cn.authority, world.alice2)
    proposal.refresh_from_db()
    assert proposal.result == {"kids": [kid]}


def test_import_jwks_as_an_administrator_proposes_the_lot_once(world, tmp_path):
    jwks = {"keys": [new_jwk(), new_jwk()]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    out = call("import_jwks", world.cn.authority.issuer, path, "--as", "alice", "--reason", "new keys")
    assert out.lines == [thumbprint(jwk) for jwk in jwks["keys"]]
    assert world.cn.authority.keys.count() == 1
    proposal = Proposal.objects.get()
    call("proposals", "--approve", proposal.pk, "--as", "alice2")
    assert world.cn.authority.keys.count() == 3


def test_design_syntax_still_acts_directly_as_the_operator_with_their_login(world, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops-maria")
    agreement = suspended_agreement(world)
    call("set_agreement_status", agreement.pk, "active")
    call("set_authority_status", world.kz.authority.issuer, "suspended")
    record = latest(RecognitionAgreement, agreement.pk)
    assert (record.status, record.history_user, record.history_operator) == ("active", None, "ops-maria")
    assert latest(Authority, world.kz.authority.pk).history_operator == "ops-maria"
    assert not Proposal.objects.exists()
    body = json.loads(bytes(LogEntry.objects.filter(kind="change").order_by("-created_at").first().body))
    assert (body["user"], body["operator"]) == (None, "ops-maria")


def test_a_change_made_on_the_web_has_no_operator(world):
    suspended_agreement(world)
    assert latest(RecognitionAgreement, world.cn_recognizes_cl.pk).history_operator == ""
    body = json.loads(bytes(LogEntry.objects.filter(kind="change").order_by("-created_at").first().body))
    assert "operator" not in body


def test_the_operator_is_unknown_without_a_login(world, monkeypatch):
    def no_login():
        raise OSError("no login name")

    monkeypatch.setattr("getpass.getuser", no_login)
    call("set_authority_status", world.kz.authority.issuer, "suspended")
    assert latest(Authority, world.kz.authority.pk).history_operator == "unknown"
