"""A fake clock for timelines: services and simple-history both read
django.utils.timezone.now, so setting `clock.now` dates every change made
after it (the `clock` fixture of tests/conftest.py). And the timeline most
point-in-time tests walk: China's agreement recognizing Kazakhstan's
authority through every state it can have, and the authority's keys through
theirs."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ed25519

from identity.jose.key_files import public_jwk_of
from identity.models import AuthorityKey
from identity.services.authorities import authority_reinstate, authority_suspend
from identity.services.keys import key_mark_compromised, key_register, key_retire
from recognition.models import RecognitionAgreement
from recognition.services import agreements as svc

SECOND = timedelta(seconds=1)
# Timelines start a day after the world was built (with the real clock).
T0 = (datetime.now(tz=UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class KzTimeline:
    """The agreement, KZ's keys, and when each change of the walk was made (a
    day apart); `instants()` in that order."""

    agreement: RecognitionAgreement
    first_key: AuthorityKey  # the world's KZ key, compromised at T0
    key_a: AuthorityKey
    key_b: AuthorityKey
    first_key_compromised: datetime
    created: datetime
    activated: datetime
    key_a_registered: datetime
    key_b_registered: datetime
    suspended: datetime
    reactivated: datetime
    key_a_retired: datetime
    key_b_compromised: datetime
    authority_suspended: datetime
    authority_back: datetime
    terminated: datetime

    def instants(self) -> tuple[datetime, ...]:
        return tuple(
            getattr(self, name) for name in self.__dataclass_fields__ if isinstance(getattr(self, name), datetime)
        )


def _register_key(authority) -> AuthorityKey:  # noqa: ANN001 (identity.models.Authority)
    """A new Ed25519 key, valid from the clock's now (the default not_before)."""
    return key_register(authority=authority, jwk=public_jwk_of(ed25519.Ed25519PrivateKey.generate()))


def walk_kz_timeline(world, clock: Clock) -> KzTimeline:  # noqa: ANN001 (tests.support.actors.World)
    """CN's agreement recognizing KZ's authority (merchant identity, from
    `low`, valid from T0) through every state it can have, and KZ's keys
    through theirs: the world's key compromised at T0, so that KZ has no
    usable key until it registers one; the agreement created as a draft and
    activated; key A registered, then key B; the agreement suspended and
    reactivated; A retired (B still signs); B compromised (A's earlier
    credentials are still valid: recognized); the authority suspended and
    reinstated; the agreement terminated."""
    kz = world.kz.authority
    clock.now = first_key_compromised = T0
    key_mark_compromised(key=world.kz.key)
    clock.now = created = T0 + timedelta(days=1)
    agreement = svc.agreement_create(
        destination="CN",
        authority=kz,
        credential_types=[world.merchant_identity],
        min_assurance="low",
        legal_basis="CN-KZ memorandum",
        valid_from=T0,
    )
    clock.now = activated = T0 + timedelta(days=2)
    svc.agreement_activate(agreement=agreement)
    clock.now = key_a_registered = T0 + timedelta(days=3)
    key_a = _register_key(kz)
    clock.now = key_b_registered = T0 + timedelta(days=4)
    key_b = _register_key(kz)
    clock.now = suspended = T0 + timedelta(days=5)
    svc.agreement_suspend(agreement=agreement)
    clock.now = reactivated = T0 + timedelta(days=6)
    svc.agreement_activate(agreement=agreement)
    clock.now = key_a_retired = T0 + timedelta(days=7)
    key_retire(key=key_a)
    clock.now = key_b_compromised = T0 + timedelta(days=8)
    key_mark_compromised(key=key_b)
    clock.now = authority_suspended = T0 + timedelta(days=9)
    authority_suspend(authority=kz)
    clock.now = authority_back = T0 + timedelta(days=10)
    authority_reinstate(authority=kz)
    clock.now = terminated = T0 + timedelta(days=11)
    svc.agreement_terminate(agreement=agreement)
    return KzTimeline(
        agreement,
        world.kz.key,
        key_a,
        key_b,
        first_key_compromised,
        created,
        activated,
        key_a_registered,
        key_b_registered,
        suspended,
        reactivated,
        key_a_retired,
        key_b_compromised,
        authority_suspended,
        authority_back,
        terminated,
    )


@dataclass(frozen=True)
class Expected:
    """The answer for KZ in CN at one instant of the walk."""

    at: datetime
    recognized: bool
    agreement: str | None  # the agreement's status then; None before it existed
    authority: str  # the authority's status then
    keys: tuple[tuple[str, str, bool], ...]  # (kid, status, usable) in the order listed


def kz_timeline_expectations(timeline: KzTimeline, max_lifetime: timedelta) -> list[Expected]:
    """Inside every interval of the walk and at its edges: one second before
    each change and the instant of it; then the end of the retired key A:
    its last credentials (issued at the latest when it was retired) expire
    `max_lifetime` after its retirement."""
    t = timeline
    k0, a, b = t.first_key.kid, t.key_a.kid, t.key_b.kid
    first_compromised = ((k0, "compromised", False),)
    with_a = (*first_compromised, (a, "active", True))
    with_b = (*with_a, (b, "active", True))
    a_retired = (*first_compromised, (a, "retired", True), (b, "active", True))
    b_compromised = (*first_compromised, (a, "retired", True), (b, "compromised", False))
    a_expired = (*first_compromised, (a, "retired", False), (b, "compromised", False))
    a_end = t.key_a_retired + max_lifetime
    rows = [
        # (instant, recognized, agreement, authority, keys)
        (t.first_key_compromised - SECOND, False, None, "active", ((k0, "active", True),)),
        (t.first_key_compromised, False, None, "active", first_compromised),
        (t.created - SECOND, False, None, "active", first_compromised),
        (t.created, False, "draft", "active", first_compromised),
        (t.activated - SECOND, False, "draft", "active", first_compromised),
        (t.activated, False, "active", "active", first_compromised),  # in force, but no usable key
        (t.key_a_registered - SECOND, False, "active", "active", first_compromised),
        (t.key_a_registered, True, "active", "active", with_a),
        (t.key_b_registered - SECOND, True, "active", "active", with_a),
        (t.key_b_registered, True, "active", "active", with_b),
        (t.suspended - SECOND, True, "active", "active", with_b),
        (t.suspended, False, "suspended", "active", with_b),
        (t.reactivated - SECOND, False, "suspended", "active", with_b),
        (t.reactivated, True, "active", "active", with_b),
        (t.key_a_retired - SECOND, True, "active", "active", with_b),
        (t.key_a_retired, True, "active", "active", a_retired),
        (t.key_b_compromised - SECOND, True, "active", "active", a_retired),
        (t.key_b_compromised, True, "active", "active", b_compromised),  # A's earlier credentials
        (t.authority_suspended - SECOND, True, "active", "active", b_compromised),
        (t.authority_suspended, False, "active", "suspended", b_compromised),
        (t.authority_back - SECOND, False, "active", "suspended", b_compromised),
        (t.authority_back, True, "active", "active", b_compromised),
        (t.terminated - SECOND, True, "active", "active", b_compromised),
        (t.terminated, False, "terminated", "active", b_compromised),
        (a_end - SECOND, False, "terminated", "active", b_compromised),
        (a_end, False, "terminated", "active", a_expired),
    ]
    return [Expected(*row) for row in rows]
