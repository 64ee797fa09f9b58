"""The audit benchmark's log (`make bench-audit`), generated and loaded in
bulk: COPY on PostgreSQL, one executemany transaction on SQLite, straight
into recognition_verification (appending a million rows through the service
would take an hour).

A realistic mix: 62 destinations and 62 origins, one of each far more
common than the rest and the others by Zipf's law, three issuers an origin,
about 80 % acceptances, the rejections spread over eight reason codes (some
rows with two), rows of a batch sharing their created_at, created_at rising
with seq over six months.
And values whose rows are counted, not drawn, so that they have the same
rows at every size: `RARE_ORIGIN` (always presented in `RARE_DESTINATION`)
and `RARE_REASON`, each on `rare` rows spread evenly over the log;
`ABSENT_REASON` on none.

The chain's hashes are not computed: `hash` and `prev_hash` are unique
64-hex placeholders linking each row to the previous one (paging never reads
them; check_chain would report the first row broken). Everything is derived
from the seed and the size; generated values contain no tab, newline or
backslash (COPY's text format is written without escaping).
"""

import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from typing import Any

from django.db import connection, transaction
from django_countries import countries

START = datetime(2026, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=182)
RARE_ORIGIN, RARE_DESTINATION = "RW", "HU"
COMMON_DESTINATION, COMMON_ORIGIN = "CN", "CL"
COMMON_REASON, RARE_REASON, ABSENT_REASON = "no_agreement", "key_compromised", "credential_revoked"
# A rejection's reasons, by weight; origin_mismatch always comes with no_agreement.
REJECTIONS = [
    (["no_agreement"], 50),
    (["expired"], 15),
    (["invalid_signature"], 10),
    (["merchant_suspended"], 7),
    (["unknown_key"], 6),
    (["agreement_not_in_force"], 4),
    (["origin_mismatch", "no_agreement"], 5),
    (["expired", "no_agreement"], 3),
]
ACCEPTED_SHARE = 0.8
BATCH_EVERY, BATCH_ROWS = 50, 10  # one request in 50 is a batch of 10 rows, one created_at
CLIENTS = [f"platform-{n}" for n in range(20)]
COLUMNS = (
    "id", "seq", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject",
    "jti", "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "prev_hash", "hash",
)  # fmt: skip
CHUNK = 100_000


def _codes() -> list[str]:
    taken = (RARE_ORIGIN, RARE_DESTINATION, COMMON_DESTINATION, COMMON_ORIGIN)
    return sorted(code for code, _ in countries if code not in taken)[::3][:78]


def _skewed(common: str, share: float, others: list[str]) -> tuple[list[str], list[float]]:
    """`common` with `share` of the weight, the rest by Zipf's law; as
    (values, cumulative weights)."""
    zipf = [1 / (rank + 1) for rank in range(len(others))]
    scale = (1 - share) / sum(zipf)
    return [common, *others], list(accumulate([share] + [weight * scale for weight in zipf]))


def issuer(origin: str, n: int) -> str:
    return f"https://authority-{origin.lower()}-{n}.bench.example/issuer"


COMMON_ISSUER = issuer(COMMON_ORIGIN, 0)  # about 13 % of the rows


def instant(seq: int, rows: int) -> datetime:
    """When the request that wrote row `seq` was recorded (a batch's rows
    take their first row's): rising with seq over SPAN."""
    return START + SPAN * (seq - 1) / rows


def rare_seqs(rows: int, rare: int, offset: float) -> set[int]:
    return {int((k + offset) * rows / rare) + 1 for k in range(rare)}


def generate(rows: int, rare: int, seed: int) -> Iterator[tuple]:
    """The rows, in seq order, as tuples of COLUMNS (created_at a datetime,
    reasons a list)."""
    rng = random.Random(seed)
    others = _codes()
    values, cumulative = _skewed(COMMON_DESTINATION, 0.20, [*others[:60], RARE_DESTINATION])
    destinations = rng.choices(values, cum_weights=cumulative, k=rows)
    values, cumulative = _skewed(COMMON_ORIGIN, 0.18, others[-60:])
    origins = rng.choices(values, cum_weights=cumulative, k=rows)
    weights = [weight / sum(w for _, w in REJECTIONS) * (1 - ACCEPTED_SHARE) for _, weight in REJECTIONS]
    reasons_of = rng.choices([[], *(reasons for reasons, _ in REJECTIONS)], [ACCEPTED_SHARE, *weights], k=rows)
    authorities = rng.choices((0, 1, 2), (70, 20, 10), k=rows)
    issuers = {(origin, n): issuer(origin, n) for origin in [*values, RARE_ORIGIN] for n in range(3)}
    kids = {origin: f"key-{origin.lower()}-1" for origin in [*values, RARE_ORIGIN]}
    bits, random_hex = rng.getrandbits, lambda: rng.randbytes(64).hex()
    rare_origin, rare_reason = rare_seqs(rows, rare, 0.25), rare_seqs(rows, rare, 0.75)
    at, left_in_batch, prev_hash = START, 0, "0" * 64
    for seq in range(1, rows + 1):
        if left_in_batch:
            left_in_batch -= 1
        else:
            at = instant(seq, rows)
            left_in_batch = BATCH_ROWS - 1 if rng.randrange(BATCH_EVERY) == 0 else 0
        destination, origin, reasons = destinations[seq - 1], origins[seq - 1], reasons_of[seq - 1]
        if seq in rare_origin:
            destination, origin = RARE_DESTINATION, RARE_ORIGIN
        if seq in rare_reason:
            reasons = [RARE_REASON]
        hash_, drawn = f"{seq:064x}", random_hex()
        yield (
            drawn[:32],  # a UUID as 32 hex digits, which both databases read
            seq,
            at,
            CLIENTS[seq % len(CLIENTS)],
            destination,
            origin,
            origin,
            issuers[origin, authorities[seq - 1]],
            kids[origin],
            f"M-{bits(23):07d}",
            drawn[32:64],
            drawn[64:],
            "rejected" if reasons else "accepted",
            reasons,
            None,
            None,
            prev_hash,
            hash_,
        )
        prev_hash = hash_


def load(rows: int, rare: int, seed: int) -> None:
    """Fill the (empty) audit table, then let PostgreSQL analyze it as
    autovacuum would after such a load (SQLite is left without statistics,
    as a deployment would be); inside a transaction (a test's), ANALYZE
    only: VACUUM cannot run there. The secondary indexes are dropped for
    the load and built again after, as the migrations define them (building
    one sorts the rows once instead of inserting them one by one)."""
    generated = stored(generate(rows, rare, seed))
    with transaction.atomic(), connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor)
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
        while chunk := list(islice(generated, CHUNK)):
            if connection.vendor == "postgresql":
                text = "".join(
                    "\t".join("\\N" if value is None else str(value) for value in row) + "\n" for row in chunk
                )
                columns = ", ".join(COLUMNS)
                cursor.copy_expert(f"COPY recognition_verification ({columns}) FROM STDIN", io.StringIO(text))
            else:
                marks = ", ".join("?" * len(COLUMNS))
                sql = f"INSERT INTO recognition_verification ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
                cursor.connection.executemany(sql, chunk)
        if connection.vendor == "postgresql":
            # CREATE INDEX refuses to run with the rows' foreign-key checks
            # still deferred: run them now (agreement_id is NULL: cheap).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, create in indexes:
            cursor.execute(create)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            vacuum = "" if connection.in_atomic_block else "VACUUM "
            cursor.execute(f"{vacuum}ANALYZE recognition_verification")


def _secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the audit table's indexes that no
    constraint or primary key owns."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'recognition_verification'::regclass AND NOT indisunique"
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'recognition_verification' AND sql IS NOT NULL"
        )
    return cursor.fetchall()


def stored(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows with created_at and reasons as the database takes them in
    text: ISO 8601 for PostgreSQL, Django's naive UTC text for SQLite
    (DatabaseOperations.adapt_datetimefield_value), JSON as JSONField writes
    it. Each conversion is made once: a batch shares its instant, and there
    are few lists of reasons."""
    postgresql = connection.vendor == "postgresql"
    at = instant_text = None
    reasons_text: dict[tuple[str, ...], str] = {}
    for row in rows:
        if row[2] is not at:
            at = row[2]
            instant_text = at.isoformat() if postgresql else str(at.astimezone(UTC).replace(tzinfo=None))
        key = tuple(row[13])
        if key not in reasons_text:
            reasons_text[key] = json.dumps(row[13])
        yield (*row[:2], instant_text, *row[3:13], reasons_text[key], *row[14:])


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cases(rows: int, rare: int) -> dict[str, dict[str, str]]:
    """The filters timed, by name: each alone, and combined. Time bounds are
    instants of this size's log at the same place (a fraction of it); the
    narrow window holds about `rare` rows at every size."""

    def at(fraction: float) -> str:
        return _rfc3339(instant(int(rows * fraction) + 1, rows))

    window = int(rows * 0.7) + 1
    return {
        "no filter": {},
        f"destination={COMMON_DESTINATION} (20 %)": {"destination": COMMON_DESTINATION},
        f"origin={RARE_ORIGIN} ({rare} rows)": {"origin": RARE_ORIGIN},
        "issuer (13 %)": {"issuer": COMMON_ISSUER},
        "decision=rejected (20 %)": {"decision": "rejected"},
        "decision=accepted (80 %)": {"decision": "accepted"},
        f"reason={COMMON_REASON} (12 %)": {"reason": COMMON_REASON},
        f"reason={RARE_REASON} ({rare} rows)": {"reason": RARE_REASON},
        f"reason={ABSENT_REASON} (none)": {"reason": ABSENT_REASON},
        "since late (last 10 %)": {"since": at(0.9)},
        "since early (last 95 %)": {"since": at(0.05)},
        "until (first half)": {"until": at(0.5)},
        f"since+until, narrow ({rare} rows)": {
            "since": _rfc3339(instant(window, rows)),
            "until": _rfc3339(instant(window + rare, rows)),
        },
        f"destination={RARE_DESTINATION}&origin={RARE_ORIGIN}": {
            "destination": RARE_DESTINATION,
            "origin": RARE_ORIGIN,
        },
        f"destination={COMMON_DESTINATION}&decision=rejected&since (last half)": {
            "destination": COMMON_DESTINATION,
            "decision": "rejected",
            "since": at(0.5),
        },
        f"issuer&reason={COMMON_REASON}&until (first 80 %)": {
            "issuer": COMMON_ISSUER,
            "reason": COMMON_REASON,
            "until": at(0.8),
        },
    }
