"""A fake clock for timelines: services and simple-history both read
django.utils.timezone.now, so setting `clock.now` dates every change made
after it (the `clock` fixture of tests/conftest.py). And the timeline most
point-in-time tests walk: China's agreement recognizing Kazakhstan's
authority through every state it can have."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from identity import services as identity
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
    """The agreement, and when each change of the walk was made (a day apart,
    from T0 + 1 day); `instants()` in that order."""

    agreement: RecognitionAgreement
    created: datetime
    activated: datetime
    suspended: datetime
    reactivated: datetime
    authority_suspended: datetime
    authority_back: datetime
    terminated: datetime

    def instants(self) -> tuple[datetime, ...]:
        return (
            self.created,
            self.activated,
            self.suspended,
            self.reactivated,
            self.authority_suspended,
            self.authority_back,
            self.terminated,
        )


def walk_kz_timeline(world, clock: Clock) -> KzTimeline:  # noqa: ANN001 (tests.actors.World)
    """CN's agreement recognizing KZ's authority (merchant identity, from
    `low`, valid from T0): created as a draft, activated, suspended,
    reactivated; the authority suspended and reinstated; the agreement
    terminated."""
    kz = world.kz.authority
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
    clock.now = suspended = T0 + timedelta(days=3)
    svc.agreement_suspend(agreement=agreement)
    clock.now = reactivated = T0 + timedelta(days=4)
    svc.agreement_activate(agreement=agreement)
    clock.now = authority_suspended = T0 + timedelta(days=5)
    identity.authority_suspend(authority=kz)
    clock.now = authority_back = T0 + timedelta(days=6)
    identity.authority_reinstate(authority=kz)
    clock.now = terminated = T0 + timedelta(days=7)
    svc.agreement_terminate(agreement=agreement)
    return KzTimeline(
        agreement, created, activated, suspended, reactivated, authority_suspended, authority_back, terminated
    )
