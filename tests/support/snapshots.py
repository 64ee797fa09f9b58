"""Plain snapshots for the pure functions of point_in_time, the matrix and
TRQP: an authority as of AT, by default with one key usable at AT (as an
authority whose credentials can be accepted has)."""

from datetime import UTC, datetime, timedelta

from recognition.snapshots import AuthoritySnapshot, KeySnapshot

AT = datetime(2026, 3, 1, tzinfo=UTC)
USABLE_KEY = KeySnapshot(1, "k1", "EdDSA", {}, "active", AT - timedelta(days=30), None, None)
COMPROMISED_KEY = KeySnapshot(0, "k0", "EdDSA", {}, "compromised", AT - timedelta(days=60), None, None, AT)


def authority_state(
    id: int,
    country: str = "CL",
    status: str = "active",
    keys: tuple[KeySnapshot, ...] = (USABLE_KEY,),
    max_assurance: str = "high",
) -> AuthoritySnapshot:
    return AuthoritySnapshot(
        id=id,
        issuer=f"https://a{id}.test",
        name=f"A{id}",
        country=country,
        status=status,
        max_assurance=max_assurance,
        keys=keys,
    )
