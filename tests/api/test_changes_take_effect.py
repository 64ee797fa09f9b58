"""DESIGN §7: a status change, made through the admin action, the management
command or the service, takes effect for the very next verification on every
worker.

The verification path does cache mutable state: each worker keeps the
authorities, their keys, the agreements and the credential types in a
`RegistrySnapshot` (recognition/snapshots.py), tagged with the registry
stamp it was loaded at. Every write to those tables gives the stamp a new
value in the same transaction (database triggers, migration 0005), and every
verification reads the stamp and reloads a snapshot that is not of it.
Merchants and registry-issued credentials are not cached: they are read for
each request. The tests here change each kind of state (a key, a merchant, an
agreement) and verify at once through the API. Long-running worker
processes, each holding its persistent database connection, see a merchant
suspension another process made (tests/recognition/services/test_verification.py)
and a key compromised by another process, the snapshot's invalidation
(tests/recognition/test_snapshots.py)."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from identity.models import AuthorityKey, Merchant
from identity.services.keys import key_mark_compromised
from identity.services.merchants import merchant_reinstate, merchant_suspend
from recognition.models import RecognitionAgreement
from recognition.services import agreements
from tests.support.actors import World
from tests.support.admin import client_for, confirm_action, latest_history_user, messages_of
from tests.support.cli import call
from tests.support.tokens import sign


@dataclass(frozen=True)
class Change:
    reason: str
    model: type
    action: str
    target: Callable[[World], object]
    admin: Callable[[World], object]  # the country administrator who may act
    command: Callable[[World], list[object]]
    service: Callable[..., object]
    service_argument: str


CHANGES = {
    "key compromised": Change(
        reason="key_compromised",
        model=AuthorityKey,
        action="mark_compromised",
        target=lambda world: world.cl.key,
        admin=lambda world: world.bob,
        command=lambda world: ["compromise_key", "--", world.cl.authority.issuer, world.cl.key.kid],
        service=key_mark_compromised,
        service_argument="key",
    ),
    "merchant suspended": Change(
        reason="merchant_suspended",
        model=Merchant,
        action="suspend",
        target=lambda world: world.cl.merchant,
        admin=lambda world: world.bob,
        command=lambda world: ["set_merchant_status", world.cl.authority.issuer, "CL-0001", "suspended"],
        service=merchant_suspend,
        service_argument="merchant",
    ),
    "agreement suspended": Change(
        reason="agreement_not_in_force",
        model=RecognitionAgreement,
        action="suspend",
        target=lambda world: world.cn_recognizes_cl,
        admin=lambda world: world.alice,
        command=lambda world: ["set_agreement_status", world.cn_recognizes_cl.pk, "suspended"],
        service=agreements.agreement_suspend,
        service_argument="agreement",
    ),
}


def make(change: Change, world: World, how: str) -> None:
    target = change.target(world)
    if how == "admin action":
        admin = change.admin(world)
        response = confirm_action(client_for(admin), change.model, change.action, [target])
        assert response.status_code == 200
        assert not any("not yours" in message for message in messages_of(response))
        target.refresh_from_db()
        assert latest_history_user(target) == admin
    elif how == "management command":
        call(*change.command(world))
    else:
        change.service(**{change.service_argument: target})


@pytest.mark.parametrize("how", ["admin action", "management command", "service"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_change_takes_effect_for_the_very_next_verification(world, api, name, how):
    change = CHANGES[name]
    token = sign(world.cl)
    assert api.codes(token, "CN", "CL") == []

    make(change, world, how)

    assert api.codes(token, "CN", "CL") == [change.reason]


@pytest.mark.parametrize(
    ("name", "intruder"),
    [
        ("key compromised", "alice"),  # a Chilean key: not China's to change
        ("merchant suspended", "alice"),
        ("agreement suspended", "bob"),  # China's agreement: not Chile's to change
        ("key compromised", "rita"),  # a regulator changes nothing
        ("merchant suspended", "rita"),
        ("agreement suspended", "rita"),
    ],
)
def test_refused_admin_action_changes_no_answer(world, api, name, intruder):
    change = CHANGES[name]
    token = sign(world.cl)
    assert api.codes(token, "CN", "CL") == []

    confirm_action(client_for(getattr(world, intruder)), change.model, change.action, [change.target(world)])

    assert api.codes(token, "CN", "CL") == []


def test_reinstatement_takes_effect_as_quickly(world, api):
    token = sign(world.cl)
    merchant_suspend(merchant=world.cl.merchant)
    agreements.agreement_suspend(agreement=world.cn_recognizes_cl)
    assert api.codes(token, "CN", "CL") == ["merchant_suspended", "agreement_not_in_force"]

    merchant_reinstate(merchant=world.cl.merchant)
    assert api.codes(token, "CN", "CL") == ["agreement_not_in_force"]
    agreements.agreement_activate(agreement=world.cn_recognizes_cl)
    assert api.codes(token, "CN", "CL") == []
