"""Point-in-time answers from history (DESIGN §7
`recognition/`): a timeline walked interval by interval and at every edge,
and the keys' part in recognition (`KeySnapshot.usable`)."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from identity.jose.key_files import public_jwk_of
from identity.services.authorities import authority_create
from identity.services.keys import key_mark_compromised, key_register, key_retire
from recognition.models import RecognitionAgreement
from recognition.services import agreements as svc
from recognition.services.point_in_time import recognition_at
from recognition.snapshots import KeySnapshot
from tests.support.clock import SECOND, T0, kz_timeline_expectations, walk_kz_timeline


def kz_in_cn(at: datetime):
    (answer,) = [
        r for r in recognition_at(destination="CN", origin="KZ", at=at) if r.authority.issuer.startswith("https://egov")
    ]
    return answer


def cn_recognizes_kz_from_the_next_day(world, clock) -> RecognitionAgreement:
    """CN's agreement for KZ, valid from T0, made and activated at T0 + 1 day."""
    clock.now = T0 + timedelta(days=1)
    return svc.agreement_create(
        destination="CN",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis="memo",
        valid_from=T0,
        activate=True,
    )


def test_timeline_of_an_agreement_its_authority_and_its_keys(world, clock, settings):
    """The twin of tests/api/test_recognition_at.py's timeline, on the service,
    at the same instants with the same expectations."""
    timeline = walk_kz_timeline(world, clock)
    agreement = timeline.agreement
    max_lifetime = timedelta(days=settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"])
    for expected in kz_timeline_expectations(timeline, max_lifetime):
        at = expected.at
        answer = kz_in_cn(at)
        assert answer.recognized is expected.recognized, at
        assert answer.terms_hold is (expected.agreement == "active" and expected.authority == "active"), at
        assert answer.authority.status == expected.authority, at
        keys = answer.authority.keys
        assert tuple((k.kid, k.status, k.usable(at, max_lifetime=max_lifetime)) for k in keys) == expected.keys, at
        assert answer.has_usable_key is any(usable for _, _, usable in expected.keys), at
        if expected.agreement is None:
            assert answer.agreements == (), at
        else:
            assert [(a.id, a.status) for a in answer.agreements] == [(agreement.id, expected.agreement)], at
    assert kz_in_cn(timeline.activated).agreements[0].version != kz_in_cn(timeline.reactivated).agreements[0].version


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
    agreement = cn_recognizes_kz_from_the_next_day(world, clock)
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
    key_mark_compromised(key=world.kz.key)
    assert [k.status for k in kz_in_cn(compromised - SECOND).authority.keys] == ["active"]
    assert [k.status for k in kz_in_cn(compromised).authority.keys] == ["compromised"]


# Keys ----------------------------------------------------------------------------

AT = datetime(2026, 3, 1, tzinfo=UTC)
LIFETIME = timedelta(days=10)
DAY = timedelta(days=1)


def key_usable(*, status, not_before, not_after, retired_at, at, max_lifetime) -> bool:
    key = KeySnapshot(1, "k1", "EdDSA", {}, status, not_before, not_after, retired_at)
    return key.usable(at, max_lifetime=max_lifetime)


@pytest.mark.parametrize(
    ("key", "usable"),
    [
        ({}, True),
        ({"not_before": AT}, True),  # from inclusive
        ({"not_before": AT + SECOND}, False),  # not yet valid: any credential would be issued too early
        ({"status": "compromised"}, False),  # every credential it signed is refused
        ({"status": "compromised", "not_before": AT - 99 * DAY}, False),
        ({"status": "retired", "retired_at": AT - DAY}, True),  # its earlier credentials stay valid...
        ({"status": "retired", "retired_at": AT - LIFETIME + SECOND}, True),
        ({"status": "retired", "retired_at": AT - LIFETIME}, False),  # ...until they expire
        ({"status": "retired", "retired_at": AT + DAY}, True),  # retirement scheduled later
        ({"status": "retired", "retired_at": AT - 2 * DAY, "not_before": AT - DAY}, False),  # retired before valid
        ({"not_after": AT + DAY}, True),
        ({"not_after": AT}, True),  # signs no more, but its earlier credentials are valid
        ({"not_after": AT - LIFETIME + SECOND}, True),
        ({"not_after": AT - LIFETIME}, False),
    ],
)
def test_a_key_is_usable_while_a_credential_it_signed_could_be_accepted(key, usable):
    times = {"status": "active", "not_before": AT - 30 * DAY, "not_after": None, "retired_at": None, **key}
    assert key_usable(**times, at=AT, max_lifetime=LIFETIME) is usable


def test_key_usability_holds_at_the_ends_of_time():
    first, last = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    common = {"not_before": first, "not_after": None, "max_lifetime": LIFETIME}
    assert key_usable(status="active", retired_at=None, at=first, **common)
    assert key_usable(status="active", retired_at=None, at=last, **common)
    assert not key_usable(status="retired", retired_at=first, at=last, **common)
    assert not key_usable(status="active", retired_at=None, at=first, **{**common, "not_before": last})


def kz_without_usable_key(world, clock) -> None:
    """KZ's only key compromised at T0, and CN's agreement for KZ in force
    from T0 + 1 day."""
    key_mark_compromised(key=world.kz.key)
    cn_recognizes_kz_from_the_next_day(world, clock)


def new_key(authority, **window):
    jwk = public_jwk_of(ed25519.Ed25519PrivateKey.generate())
    return key_register(authority=authority, jwk=jwk, **window)


def test_a_key_counts_from_its_not_before_not_from_its_registration(world, clock):
    kz_without_usable_key(world, clock)
    clock.now = registered = T0 + 2 * DAY
    valid_from = registered + timedelta(hours=12)
    key = new_key(world.kz.authority, not_before=valid_from)
    for at, listed, recognized in [
        (registered - SECOND, False, False),
        (registered, True, False),
        (valid_from - SECOND, True, False),
        (valid_from, True, True),
    ]:
        answer = kz_in_cn(at)
        assert (key.kid in [k.kid for k in answer.authority.keys], answer.recognized) == (listed, recognized), at
        assert answer.terms_hold, at


def test_a_key_past_its_not_after_counts_until_its_last_credentials_expire(world, clock, settings):
    lifetime = timedelta(days=settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"])
    kz_without_usable_key(world, clock)
    clock.now = registered = T0 + 2 * DAY
    not_after = registered + 3 * DAY
    new_key(world.kz.authority, not_after=not_after)
    expected = [(not_after - SECOND, True), (not_after, True), (not_after + lifetime - SECOND, True)]
    expected.append((not_after + lifetime, False))
    assert [(at, kz_in_cn(at).recognized) for at, _ in expected] == expected


def test_a_retired_only_key_keeps_the_authority_recognized_until_its_credentials_expire(world, clock, settings):
    lifetime = timedelta(days=settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"])
    cn_recognizes_kz_from_the_next_day(world, clock)
    clock.now = retired = T0 + 2 * DAY
    key_retire(key=world.kz.key)
    expected = [(retired - SECOND, True), (retired, True), (retired + lifetime - SECOND, True)]
    expected.append((retired + lifetime, False))
    assert [(at, kz_in_cn(at).recognized) for at, _ in expected] == expected
    assert kz_in_cn(retired + lifetime).terms_hold


def test_an_authority_without_keys_is_not_recognized_even_at_home(world, clock):
    newcomer = authority_create(country="CN", name="New Bureau", issuer="https://new-bureau.test/issuer")
    clock.now = T0 + DAY
    answers = {r.authority.issuer: r for r in recognition_at(destination="CN", origin="CN", at=clock.now)}
    assert answers[world.cn.authority.issuer].recognized
    fresh = answers[newcomer.issuer]
    assert (fresh.recognized, fresh.basis, fresh.terms_hold) == (False, "", True)
    clock.now = T0 + 2 * DAY
    new_key(newcomer)
    answers = {r.authority.issuer: r for r in recognition_at(destination="CN", origin="CN", at=clock.now)}
    assert (answers[newcomer.issuer].recognized, answers[newcomer.issuer].basis) == (True, "domestic")
