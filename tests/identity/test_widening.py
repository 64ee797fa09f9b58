"""Widening trust in identity (README, Four-eyes approval): a country
administrator's key registration (one JWK, a JWKS, a generated pair),
reinstatement of an authority and raise of its accreditation are proposals;
the superuser and the operator act directly; narrowing is immediate."""

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ValidationError

from accounts.models import Proposal
from accounts.proposals import StaleProposal, approve
from identity.jose.jwk import thumbprint
from identity.jose.key_files import public_jwk_of
from identity.models import Authority, AuthorityKey
from identity.services.authorities import (
    authority_reinstate,
    authority_set_status,
    authority_suspend,
    authority_update,
)
from identity.services.keys import key_generate, key_mark_compromised, key_register, key_register_many, key_retire


def new_jwk() -> dict:
    return public_jwk_of(ed25519.Ed25519PrivateKey.generate())


def latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def test_registering_one_key_is_proposed_then_applied_by_the_second_administrator(world):
    jwk = new_jwk()
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    proposal = key_register(
        authority=world.cn.authority, jwk=jwk, kid="cn-2027", not_before=at, user=world.alice, reason="rotation"
    )
    assert isinstance(proposal, Proposal)
    assert proposal.summary == "Register key of Market Regulation Test Bureau (CN): cn-2027"
    assert not AuthorityKey.objects.filter(kid="cn-2027").exists()
    (key,) = approve(proposal=proposal, user=world.alice2)
    assert (key.kid, key.not_before, key.public_jwk["x"]) == ("cn-2027", at, jwk["x"])
    record = latest(AuthorityKey, key.pk)
    assert record.history_user == world.alice2
    assert record.history_change_reason == f"registered: approved proposal #{proposal.pk} proposed by alice: rotation"


def test_a_jwks_is_one_proposal_for_the_lot(world):
    jwks = {"keys": [new_jwk(), new_jwk()]}
    proposal = key_register_many(authority=world.cn.authority, jwks=jwks, user=world.alice, reason="new lot")
    assert proposal.summary.startswith("Register 2 keys of Market Regulation Test Bureau (CN): ")
    assert world.cn.authority.keys.count() == 1
    keys = approve(proposal=proposal, user=world.alice2)
    assert [key.kid for key in keys] == [thumbprint(jwk) for jwk in jwks["keys"]]
    assert world.cn.authority.keys.count() == 3


def test_a_proposed_lot_is_checked_as_its_registration_would_be(world):
    jwk = new_jwk()
    with pytest.raises(ValidationError, match="key 2 of 2: kid .* is already in the lot"):
        key_register_many(authority=world.cn.authority, jwks={"keys": [jwk, jwk]}, user=world.alice, reason="x")
    with pytest.raises(ValidationError, match="already has a key with kid"):
        key_register(authority=world.cn.authority, jwk=world.cn.key.public_jwk, user=world.alice, reason="x")
    with pytest.raises(ValidationError, match="private members"):
        key_register(authority=world.cn.authority, jwk={**jwk, "d": "AAAA"}, user=world.alice, reason="x")
    assert not Proposal.objects.exists()


def test_a_generated_key_writes_the_private_half_and_proposes_the_public(world, tmp_path):
    out = tmp_path / "cn.pem"
    proposal = key_generate(
        authority=world.cn.authority, alg="EdDSA", private_key_out=out, user=world.alice, reason="rotation"
    )
    assert isinstance(proposal, Proposal) and out.exists()
    assert world.cn.authority.keys.count() == 1
    approve(proposal=proposal, user=world.alice2)
    assert world.cn.authority.keys.count() == 2


def test_a_key_registration_goes_stale_when_the_authority_changes(world):
    proposal = key_register(authority=world.cn.authority, jwk=new_jwk(), user=world.alice, reason="rotation")
    authority_suspend(authority=world.cn.authority, user=world.alice, reason="audit")
    with pytest.raises(StaleProposal, match="authority #.* changed since it was proposed .*status suspended: audit"):
        approve(proposal=proposal, user=world.alice2)
    proposal.refresh_from_db()
    assert proposal.status == "stale"
    assert world.cn.authority.keys.count() == 1


def test_reinstating_an_authority_is_proposed(world):
    authority_suspend(authority=world.cn.authority, user=world.alice, reason="audit")
    proposal = authority_reinstate(authority=world.cn.authority, user=world.alice, reason="audit closed")
    assert proposal.summary == ("Reinstate authority Market Regulation Test Bureau (CN, https://samr-cn.test/issuer)")
    world.cn.authority.refresh_from_db()
    assert world.cn.authority.status == "suspended"
    assert approve(proposal=proposal, user=world.alice2).status == "active"


def test_a_reinstatement_that_cannot_happen_is_refused_before_it_is_proposed(world):
    with pytest.raises(ValidationError, match="already active"):
        authority_set_status(authority=world.cn.authority, status="active", user=world.alice, reason="x")
    assert not Proposal.objects.exists()


def test_raising_the_accreditation_is_proposed_lowering_is_immediate(world):
    authority = authority_update(
        authority=world.cn.authority, name=world.cn.authority.name, max_assurance="low", user=world.alice
    )
    assert authority.max_assurance == "low"
    proposal = authority_update(
        authority=world.cn.authority, name="Renamed Bureau", max_assurance="high", user=world.alice, reason="accredited"
    )
    assert proposal.summary == (
        "Raise the accreditation of https://samr-cn.test/issuer (CN): maximum assurance low → high; "
        "renamed Renamed Bureau"
    )
    world.cn.authority.refresh_from_db()
    assert (world.cn.authority.name, world.cn.authority.max_assurance) == ("Market Regulation Test Bureau", "low")
    approve(proposal=proposal, user=world.alice2)
    world.cn.authority.refresh_from_db()
    assert (world.cn.authority.name, world.cn.authority.max_assurance) == ("Renamed Bureau", "high")


def test_narrowing_keys_is_immediate(world):
    assert key_retire(key=world.cn.key, user=world.alice, reason="rotation").status == "retired"
    assert key_mark_compromised(key=world.cn.key, user=world.alice, reason="leak").status == "compromised"
    assert not Proposal.objects.exists()


def test_the_superuser_and_the_operator_register_and_reinstate_directly(world):
    assert isinstance(key_register(authority=world.cn.authority, jwk=new_jwk(), user=world.root), AuthorityKey)
    assert isinstance(key_register(authority=world.cn.authority, jwk=new_jwk()), AuthorityKey)
    authority_suspend(authority=world.kz.authority)
    assert authority_reinstate(authority=world.kz.authority, user=world.root).status == "active"
    assert isinstance(authority_update(authority=world.kz.authority, name="KZ", max_assurance="high"), Authority)
    assert not Proposal.objects.exists()


def test_another_countrys_administrator_cannot_propose_for_its_authority(world):
    with pytest.raises(ValidationError, match="does not administer CL"):
        key_register(authority=world.cl.authority, jwk=new_jwk(), user=world.alice, reason="x")
