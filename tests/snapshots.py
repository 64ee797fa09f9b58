"""Plain snapshots for the pure functions of point_in_time, the matrix and
TRQP: an authority as of AT, by default with one usable key (as an authority
whose credentials can be accepted has)."""

from datetime import UTC, datetime, timedelta

from recognition.services.point_in_time import AuthorityState, KeyState

AT = datetime(2026, 3, 1, tzinfo=UTC)
USABLE_KEY = KeyState("k1", "EdDSA", "active", AT - timedelta(days=30), None, usable=True)
COMPROMISED_KEY = KeyState("k0", "EdDSA", "compromised", AT - timedelta(days=60), None, usable=False)


def authority_state(
    id: int, country: str = "CL", status: str = "active", keys: tuple[KeyState, ...] = (USABLE_KEY,)
) -> AuthorityState:
    return AuthorityState(
        id=id,
        issuer=f"https://a{id}.test",
        name=f"A{id}",
        country=country,
        status=status,
        max_assurance="high",
        keys=keys,
    )
