"""A page of the audit API reads about a page of rows, whatever the filter
and the cursor's depth: no statement of the request walks the log
past rows it does not show. Counted by the database itself on a log of
5,000 rows where a rare value has 10 (tests.support.audit_rows): PostgreSQL's rows
read by each plan node (EXPLAIN ANALYZE), SQLite's virtual machine steps,
each against the same count for the unfiltered first page. A plan that walks
the seq index past the rows before a late `since`, or past the rows of other
origins, reads hundreds of times more. (Two common values whose rows rarely
meet read about page / their share of the rows, whatever the log's size: not
counted here.) `make bench-audit` times these pages and more on a million
rows. The indexes themselves are listed in
tests/recognition/models/test_audit.py."""

from base64 import b64encode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support import audit_rows

LIST = "/api/v1/audit/verifications/"
ROWS, RARE = 5_000, 10
# A page's statements may read this many times what the unfiltered first page
# reads (plus the index probes that turn since/until into seq bounds).
BOUND = 4


# Committed rows, emptied by TRUNCATE after each test: rows rolled back by an
# earlier test would stay in the indexes as dead entries and count as read.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_throttle_counters")]


@pytest.fixture
def log(world) -> dict[str, dict[str, str]]:
    audit_rows.load(ROWS, RARE, seed=5)
    return audit_rows.cases(ROWS, RARE)


def cursor(position: int) -> str:
    return b64encode(f"p={position}".encode()).decode()


def work(sql: str) -> int:
    """What running `sql` costs the database, in its own unit."""
    with connection.cursor() as db:
        if connection.vendor == "postgresql":
            db.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            return _rows_read(db.fetchone()[0][0]["Plan"])
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0  # go on

        db.connection.set_progress_handler(count, 10)
        try:
            db.execute(sql)
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


def statements_of(client, query: dict) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, query)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries if "recognition_verification" in q["sql"]]


PAGES = [
    ("origin=RW (10 rows)", None),
    ("origin=RW (10 rows)", ROWS // 2),
    ("since late (last 10 %)", None),
    ("since late (last 10 %)", ROWS - 100),
    ("since early (last 95 %)", ROWS - 100),
    ("until (first half)", ROWS // 2 - 100),
    ("since+until, narrow (10 rows)", None),
    ("destination=HU&origin=RW", None),
    ("destination=HU&origin=RW", ROWS // 2),
    ("reason=key_compromised (10 rows)", ROWS // 2),  # PostgreSQL only: SQLite reads the rows (README)
    ("reason=credential_revoked (none)", None),  # PostgreSQL only
]


@pytest.mark.parametrize(("case", "after"), PAGES, ids=[f"{case}, after {after}" for case, after in PAGES])
def test_a_page_reads_about_a_page_of_rows(regulator, log, case, after):
    if case.startswith("reason=") and connection.vendor != "postgresql":
        pytest.skip("SQLite has no index for reason codes: a page reads the rows (README, Performance)")
    (baseline,) = statements_of(regulator, {})
    query = {**log[case], **({"cursor": cursor(after)} if after is not None else {})}
    for sql in statements_of(regulator, query):
        assert work(sql) <= BOUND * work(baseline), sql
