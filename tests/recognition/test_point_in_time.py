"""Point-in-time answers from history (issue: regulators; DESIGN §7
`recognition/`): a timeline walked interval by interval and at every edge."""

from datetime import datetime, timedelta

from identity import services as identity
from recognition.services import agreements as svc
from recognition.services.point_in_time import recognition_at
from tests.clock import SECOND, T0, walk_kz_timeline


def kz_in_cn(at: datetime):
    (answer,) = [
        r for r in recognition_at(destination="CN", origin="KZ", at=at) if r.authority.issuer.startswith("https://egov")
    ]
    return answer


def test_timeline_of_an_agreement_and_its_authority(world, clock):
    timeline = walk_kz_timeline(world, clock)
    agreement = timeline.agreement
    created, activated, suspended, reactivated, authority_suspended, authority_back, terminated = timeline.instants()

    expected = [
        (created - SECOND, None),  # before the agreement existed: authority known, no agreement
        (created, False),
        (activated - SECOND, False),
        (activated, True),
        (suspended - SECOND, True),
        (suspended, False),
        (reactivated, True),
        (authority_suspended - SECOND, True),
        (authority_suspended, False),
        (authority_back, True),
        (terminated - SECOND, True),
        (terminated, False),
        (terminated + timedelta(days=365), False),
    ]
    for at, recognized in expected:
        answer = kz_in_cn(at)
        if recognized is None:
            assert answer.agreements == () and not answer.recognized, at
        else:
            assert answer.recognized is recognized, at
            assert [a.id for a in answer.agreements] == [agreement.id]
    assert kz_in_cn(activated).agreements[0].status == "active"
    assert kz_in_cn(suspended).agreements[0].status == "suspended"
    assert kz_in_cn(activated).agreements[0].version != kz_in_cn(reactivated).agreements[0].version
    assert kz_in_cn(authority_suspended).authority.status == "suspended"
    assert kz_in_cn(terminated).agreements[0].status == "terminated"


def test_validity_window_edges_are_from_inclusive_until_exclusive(world, clock):
    start, end = T0 + timedelta(days=10), T0 + timedelta(days=20)
    svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=start,
        valid_until=end,
        activate=True,
    )
    assert not kz_in_cn(start - SECOND).recognized
    assert kz_in_cn(start).recognized
    assert kz_in_cn(end - SECOND).recognized
    assert not kz_in_cn(end).recognized


def test_terms_changed_later_do_not_rewrite_the_past(world, clock):
    clock.now = T0 + timedelta(days=1)
    agreement = svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=T0,
        activate=True,
    )
    clock.now = changed = T0 + timedelta(days=2)
    svc.agreement_update_terms(
        agreement=agreement, credential_types=[world.merchant_identity, world.export_licence], min_assurance="high"
    )
    before = kz_in_cn(changed - SECOND).agreements[0]
    after = kz_in_cn(changed).agreements[0]
    assert (before.credential_types, before.min_assurance) == (("merchant-identity",), "substantial")
    assert (after.credential_types, after.min_assurance) == (("export-licence", "merchant-identity"), "high")


def test_domestic_authorities_are_recognized_while_active(world, clock):
    (cn,) = recognition_at(destination="CN", origin="CN", at=T0)
    assert cn.recognized and cn.basis == "domestic"


def test_key_states_are_those_of_the_instant(world, clock):
    clock.now = compromised = T0 + timedelta(days=30)
    identity.key_mark_compromised(key=world.kz.key)
    assert [k.status for k in kz_in_cn(compromised - SECOND).authority.keys] == ["active"]
    assert [k.status for k in kz_in_cn(compromised).authority.keys] == ["compromised"]
