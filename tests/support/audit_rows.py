"""The audit benchmark's log (`make bench-audit`, tests/api/test_audit_page_work.py),
generated and loaded in bulk: COPY on PostgreSQL, one executemany transaction
on SQLite, straight into recognition_verification and recognition_logentry
(recording a million decisions through the service would take an hour).

A realistic mix: 62 destinations and 62 origins, one of each far more
common than the rest and the others by Zipf's law, three issuers an origin,
about 80 % acceptances, the rejections spread over eight reason codes (some
rows with two), the rows of a batch sharing their created_at, created_at
rising over six months.
And values whose rows are counted, not drawn, so that they have the same
rows at every size: `RARE_ORIGIN` (always presented in `RARE_DESTINATION`)
and `RARE_REASON`, each on `rare` rows spread evenly over the log (one in
each `rows / rare` slice of it); `ABSENT_REASON` on none.

Each decision is a `Verification` row and its `LogEntry`: the entry's bytes
are the decision's canonical JSON (DESIGN §6, recognition/log/entries.py)
and its leaf hash SHA-256(0x00 || bytes), so that check_log finds every row
equal to its entry. The integrator is not run: the rows are generated in the
log's time order (created_at, id), and all but the newest PENDING_SHARE get
the leaf index it would give them (0, 1, 2, ...); the newest have none yet,
as entries waiting for it. The hash tiles of the placed leaves are written
as the integrator would have (check_log compares them with the tree it
rebuilds); no state or checkpoint (the audit API reads neither).

Everything is derived from the seed and the size; generated values contain
no tab, newline or backslash (COPY's text format is written without
escaping; the bytes go as hex).
"""

import base64
import io
import json
import random
import uuid
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
PENDING_SHARE = 1000  # the newest rows / PENDING_SHARE have no leaf index yet
CLIENTS = [f"platform-{n}" for n in range(20)]
# A generated row: the decision's columns (recognition_verification), then its leaf index.
DECISION_COLUMNS = (
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip
COLUMNS = (*DECISION_COLUMNS, "seq")
ENTRY_COLUMNS = ("id", "kind", "created_at", "body", "leaf_hash", "seq")
TABLES = ("recognition_logentry", "recognition_verification")
CHUNK = 20_000


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


def instant(position: int, rows: int) -> datetime:
    """When the request that wrote the row at `position` (from 0, in time
    order) was recorded (a batch's rows take their first row's): rising over
    SPAN."""
    return START + SPAN * position / rows


def rare_positions(rows: int, rare: int, offset: float) -> set[int]:
    return {int((k + offset) * rows / rare) for k in range(rare)}


def pending(rows: int) -> int:
    """How many of the newest rows have no leaf index."""
    return rows // PENDING_SHARE


def generate(rows: int, rare: int, seed: int) -> Iterator[tuple]:
    """The rows in the log's time order, (created_at, id), as tuples of
    COLUMNS (id a 32-hex-digit UUID, created_at a datetime, reasons a list,
    seq an int or None)."""
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
    rare_origin, rare_reason = rare_positions(rows, rare, 0.25), rare_positions(rows, rare, 0.75)
    integrated = rows - pending(rows)
    at, left_in_batch, batch = START, 0, []

    def placed(batch: list[tuple]) -> Iterator[tuple]:
        # A batch shares its instant: in the log's order, its rows go by id,
        # and the leaf indices follow that order.
        for row in sorted(batch):
            position = next(numbering)
            yield (*row, position if position < integrated else None)

    numbering = iter(range(rows))
    for n in range(rows):
        if left_in_batch:
            left_in_batch -= 1
        else:
            yield from placed(batch)
            at, batch = instant(n, rows), []
            left_in_batch = BATCH_ROWS - 1 if rng.randrange(BATCH_EVERY) == 0 else 0
        destination, origin, reasons = destinations[n], origins[n], reasons_of[n]
        if n in rare_origin:
            destination, origin = RARE_DESTINATION, RARE_ORIGIN
        if n in rare_reason:
            reasons = [RARE_REASON]
        drawn = random_hex()
        batch.append(
            (
                # A version 4 UUID as 32 hex digits, which both databases read.
                drawn[:12] + "4" + drawn[13:16] + "89ab"[int(drawn[16], 16) % 4] + drawn[17:32],
                at,
                CLIENTS[n % len(CLIENTS)],
                destination,
                origin,
                origin,
                issuers[origin, authorities[n]],
                kids[origin],
                f"M-{bits(23):07d}",
                drawn[32:64],
                drawn[64:],
                "rejected" if reasons else "accepted",
                reasons,
                None,
                None,
            )
        )
    yield from placed(batch)


def entry_of(row: tuple) -> tuple:
    """The log entry of a generated row, as a tuple of ENTRY_COLUMNS (bytes
    as bytes): the bytes recognition/log/entries.py writes for it."""
    from recognition.log.entries import decision_entry

    fields = dict(zip(COLUMNS, row, strict=True))
    made = decision_entry(uuid.UUID(fields["id"]), fields["created_at"], fields)
    return (fields["id"], made.kind, fields["created_at"], made.body, made.leaf_hash, fields["seq"])


def load(rows: int, rare: int, seed: int) -> None:
    """Fill the (empty) audit tables, decisions and their entries, then let
    PostgreSQL analyze them as autovacuum would after such a load (SQLite is
    left without statistics, as a deployment would be); inside a
    transaction (a test's), ANALYZE only: VACUUM cannot run there. The
    secondary indexes are dropped for the load and built again after, as the
    migrations define them (building one sorts the rows once instead of
    inserting them one by one)."""
    from recognition.log import tree
    from recognition.models import LogTile

    postgresql = connection.vendor == "postgresql"
    generated = generate(rows, rare, seed)
    with transaction.atomic(), connection.cursor() as cursor:
        indexes = [index for table in TABLES for index in _secondary_indexes(cursor, table)]
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        if not postgresql:
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
        leaves: list[bytes] = []  # of the placed entries, in leaf order (generated in it)
        while chunk := list(islice(generated, CHUNK)):
            entries = [entry_of(row) for row in chunk]
            leaves += [entry[4] for entry in entries if entry[5] is not None]
            decisions = [row[: len(DECISION_COLUMNS)] for row in chunk]
            _insert(cursor, "recognition_logentry", ENTRY_COLUMNS, list(stored(entries, ENTRY_COLUMNS)))
            _insert(cursor, "recognition_verification", DECISION_COLUMNS, list(stored(decisions, DECISION_COLUMNS)))
        if postgresql:
            # CREATE INDEX refuses to run with the rows' foreign-key checks
            # still deferred: run them now (agreement_id is NULL: cheap).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, create in indexes:
            cursor.execute(create)
        tiles = tree.append(0, leaves, lambda level, index: b"")
        LogTile.objects.bulk_create(
            LogTile(level=level, index=index, hashes=hashes) for (level, index), hashes in sorted(tiles.items())
        )
        if postgresql:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if postgresql:
        with connection.cursor() as cursor:
            vacuum = "" if connection.in_atomic_block else "VACUUM "
            for table in TABLES:
                cursor.execute(f"{vacuum}ANALYZE {table}")


def _insert(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        text = "".join("\t".join("\\N" if value is None else str(value) for value in row) + "\n" for row in rows)
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))
    else:
        marks = ", ".join("?" * len(columns))
        cursor.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that no
    constraint or primary key owns."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisunique",
            [table],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL", [table]
        )
    return cursor.fetchall()


def stored(rows: list[tuple], columns: tuple[str, ...]) -> Iterator[tuple]:
    """The rows with instants, reasons and bytes as the database takes them:
    instants as ISO 8601 text for PostgreSQL, Django's naive UTC text for
    SQLite (DatabaseOperations.adapt_datetimefield_value); reasons as the
    JSON JSONField writes; bytes as bytea hex text for COPY, as they are for
    SQLite. Each conversion of an instant or a list of reasons is made once:
    a batch shares its instant, and there are few lists of reasons."""
    postgresql = connection.vendor == "postgresql"
    convert = [
        name
        for name in ("created_at", "reasons", "body", "leaf_hash")
        if name in columns and (postgresql or name in ("created_at", "reasons"))
    ]
    where = [columns.index(name) for name in convert]
    at = instant_text = None
    reasons_text: dict[tuple[str, ...], str] = {}
    for row in rows:
        values = list(row)
        for index, name in zip(where, convert, strict=True):
            value = values[index]
            if name == "created_at":
                if value is not at:
                    at = value
                    instant_text = at.isoformat() if postgresql else str(at.astimezone(UTC).replace(tzinfo=None))
                values[index] = instant_text
            elif name == "reasons":
                key = tuple(value)
                if key not in reasons_text:
                    reasons_text[key] = json.dumps(value)
                values[index] = reasons_text[key]
            else:
                values[index] = "\\\\x" + value.hex()
        yield tuple(values)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cases(rows: int, rare: int) -> dict[str, dict[str, str]]:
    """The filters timed, by name: each alone, and combined. Time bounds are
    instants of this size's log at the same place (a fraction of it); the
    narrow window holds about `rare` rows at every size."""

    def at(fraction: float) -> str:
        return _rfc3339(instant(int(rows * fraction), rows))

    window = int(rows * 0.7)
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


# Cursors ----------------------------------------------------------------------------------------


def cursor(created_at: datetime, id: uuid.UUID | str, *, reverse: bool = False) -> str:
    """The cursor of a `next` (or, reverse, `previous`) link whose page
    ended (began) at the row (created_at, id): base64url of
    {"t": RFC 3339 UTC, "i": the UUID, "r": reverse} (recognition/api/pagination.py)."""
    fields = {"t": _rfc3339(created_at), "i": str(uuid.UUID(str(id))), "r": reverse}
    return base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode("ascii")).decode("ascii")


def key_at(position: int) -> tuple[datetime, uuid.UUID]:
    """(created_at, id) of the row at `position` (from 0) of the loaded log
    in time order: where a cursor that deep stands."""
    from recognition.models import Verification

    return Verification.objects.order_by("created_at", "id").values_list("created_at", "id")[position]
