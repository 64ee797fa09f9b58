"""A page of the audit API reads about a page of rows, whatever the filter
and the cursor's depth: no statement of the request walks the log past rows
it does not show. Counted by the database itself on a log of 5,000 decisions
where a rare value has 10 (tests.support.audit_rows): PostgreSQL's rows read
by each plan node (EXPLAIN ANALYZE), SQLite's virtual machine steps, each
statement against the same table's statement of the unfiltered first page
(the page of decisions; the lookup of their log entries). A plan that walks
the (created_at, id) index past the rows before a late `since`, or past the
rows of other origins, or that sorts every match, reads hundreds of times
more. (Two common values whose rows rarely meet read about page / their
share of the rows, whatever the log's size: not counted here.) `make
bench-audit` times these pages and more on a million rows. The indexes
themselves are listed in tests/recognition/models/test_audit.py."""

import pytest
from django.db import connection

from recognition.log.integrity import check_log
from recognition.models import LogEntry, Verification
from tests.support import audit_rows
from tests.support.api import error_of, keyed

LIST = "/api/v1/audit/verifications/"
ROWS, RARE = 5_000, 10
TABLES = ("recognition_verification", "recognition_logentry")
# A page's statement may read this many times what the unfiltered first
# page's statement on the same table reads.
BOUND = 4


# Committed rows, emptied by TRUNCATE after each test: rows rolled back by an
# earlier test would stay in the indexes as dead entries and count as read.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_throttle_counters")]


@pytest.fixture
def log(world) -> dict[str, dict[str, str]]:
    audit_rows.load(ROWS, RARE, seed=5)
    return audit_rows.cases(ROWS, RARE)


def cursor_at(position: int, *, reverse: bool = False) -> str:
    """The cursor of a `next` link whose page ended at the log's row
    `position` (from 0, in time order), or of a `previous` link whose page
    began there."""
    return audit_rows.cursor(*audit_rows.key_at(position), reverse=reverse)


def work(sql: str, params: tuple) -> int:
    """What running `sql` with `params` costs the database, in its own unit.
    The parameters stay bound, as the request ran it: SQLite plans a
    statement with `?` in it without seeing the values (its text with the
    values written in can take another index)."""
    with connection.cursor() as db:
        if connection.vendor == "postgresql":
            db.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            return _rows_read(db.fetchone()[0][0]["Plan"])
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0  # go on

        db.connection.set_progress_handler(count, 10)
        try:
            db.execute(sql, params)
            db.fetchall()
        finally:
            db.connection.set_progress_handler(None, 10)
        return steps[0]


def _rows_read(node: dict) -> int:
    read = 0
    if "Scan" in node["Node Type"]:
        read += node["Actual Rows"] * node["Actual Loops"]
        read += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return read + sum(_rows_read(child) for child in node.get("Plans", []))


def table_of(sql: str) -> str | None:
    """The table of the audit log that a statement reads, if any (the
    request's other statements find the key and count the throttle)."""
    (table,) = [name for name in TABLES if f'"{name}"' in sql] or [None]
    return table


def ran_by(client, query: dict) -> tuple[object, list[tuple[str, str, tuple]]]:
    """The response to one page, and (table, SQL, parameters) of each of its
    statements that read the audit log, as the request ran them."""
    ran = []

    def record(execute, sql, params, many, context):
        ran.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(LIST, query)
    return response, [(table, sql, params) for sql, params in ran if (table := table_of(sql))]


def statements_of(client, query: dict) -> list[tuple[str, str, tuple]]:
    response, statements = ran_by(client, query)
    assert response.status_code == 200, response.content
    return statements


def test_the_generated_log_is_a_log_whose_rows_equal_their_entries(log):
    decisions = LogEntry.objects.filter(kind="decision")  # the world's registry changes wait beside them
    assert Verification.objects.count() == decisions.count() == ROWS
    integrated = ROWS - audit_rows.pending(ROWS)
    assert decisions.filter(seq__isnull=True).count() == audit_rows.pending(ROWS) > 0
    report = check_log()  # every leaf hash from its bytes, every decision row equal to its entry
    assert (report.intact, report.size, report.problem) == (True, integrated, "")
    # The leaf indices follow the log's time order, as the integrator gives them.
    by_time = list(decisions.order_by("created_at", "id").values_list("seq", flat=True))
    assert by_time == [*range(integrated), *[None] * (ROWS - integrated)]
    assert Verification.objects.filter(origin=audit_rows.RARE_ORIGIN).count() == RARE
    rare_pair = Verification.objects.filter(destination=audit_rows.RARE_DESTINATION, origin=audit_rows.RARE_ORIGIN)
    assert rare_pair.count() == RARE


# (case, the row of the cursor, whether it is a `previous` link's)
PAGES = [
    ("no filter", ROWS // 2, False),
    ("no filter", ROWS // 2, True),
    ("origin=RW (10 rows)", None, False),
    ("origin=RW (10 rows)", ROWS // 2, False),
    ("origin=RW (10 rows)", ROWS // 2, True),
    ("since late (last 10 %)", None, False),
    ("since late (last 10 %)", ROWS - 100, False),
    ("since late (last 10 %)", ROWS - 100, True),
    ("since early (last 95 %)", ROWS - 100, False),
    ("since early (last 95 %)", ROWS - 100, True),
    ("until (first half)", ROWS // 2 - 100, False),
    ("until (first half)", ROWS // 10, True),
    ("since+until, narrow (10 rows)", None, False),
    ("destination=HU&origin=RW", None, False),
    ("destination=HU&origin=RW", ROWS // 2, False),
    ("reason=key_compromised (10 rows)", ROWS // 2, False),  # PostgreSQL only: SQLite reads the rows (README)
    ("reason=credential_revoked (none)", None, False),  # PostgreSQL only
]


@pytest.mark.parametrize(
    ("case", "at", "reverse"),
    PAGES,
    ids=[f"{case}, {'before' if reverse else 'after'} {at}" for case, at, reverse in PAGES],
)
def test_a_page_reads_about_a_page_of_rows(regulator, log, case, at, reverse):
    if case.startswith("reason=") and connection.vendor != "postgresql":
        pytest.skip("SQLite has no index for reason codes: a page reads the rows (README, Performance)")
    baseline = {table: work(sql, params) for table, sql, params in statements_of(regulator, {})}
    assert set(baseline) == set(TABLES)  # the page, then its entries
    query = {**log[case], **({"cursor": cursor_at(at, reverse=reverse)} if at is not None else {})}
    statements = statements_of(regulator, query)
    assert statements and statements[0][0] == "recognition_verification"
    for table, sql, params in statements:
        assert work(sql, params) <= BOUND * baseline[table], (sql, params)


def test_a_caller_who_may_not_read_the_log_costs_it_nothing(regulator, log, platform_key):
    """Refused before any statement reads the log: a platform key, a wrong
    key, no key (the regulator's request, read the same way, does)."""
    query = log["since late (last 10 %)"]
    assert statements_of(regulator, query)
    for client, status, code in [
        (keyed(platform_key), 403, "forbidden"),
        (keyed("wrong.key"), 401, "authentication_failed"),
        (regulator.__class__(), 401, "not_authenticated"),
    ]:
        response, statements = ran_by(client, query)
        error_of(response, status, code)
        assert statements == [], status
