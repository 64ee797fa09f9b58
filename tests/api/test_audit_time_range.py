"""`since` and `until` on the audit log (DESIGN §6, §10). A decision's
created_at is the instant its request was decided, and the log no longer
keeps created_at in leaf order: a request decided earlier may be recorded,
and placed in the tree, after one decided later (the chain used to move such
a row to its head's instant). The API lists decisions in time order,
(created_at, id), and a time range must select exactly the rows a plain
comparison of created_at selects, at every edge, with rows sharing an
instant, page by page in both directions, whatever their leaf indices. A row
changed behind the application's back is shown as it stands, and the
integrity check names its leaf."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from recognition.log.integrator import integrate_all
from recognition.models import LogEntry, Verification
from recognition.services.audit import record_decisions
from tests.support.api import error_of, keyed
from tests.support.audit import entry, expected_entry, tamper
from tests.support.clock import T0
from tests.support.tokens import sign

LIST = "/api/v1/audit/verifications/"
T = datetime(2026, 3, 1, tzinfo=UTC)
SECOND, MICROSECOND = timedelta(seconds=1), timedelta(microseconds=1)


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def in_time_order(rows: list[Verification]) -> list[str]:
    return [str(row.id) for row in sorted(rows, key=lambda row: (row.created_at, row.id.hex))]


def seq_of(row: Verification) -> int | None:
    return LogEntry.objects.get(id=row.id).seq


# A decision recorded later may carry an earlier instant -------------------------------------------


def test_a_decision_recorded_after_a_later_one_keeps_its_instant_and_its_time_place(world, api, regulator, clock):
    clock.now = T0 + timedelta(hours=1)
    later = api.verify(sign(world.cl), "CN").json()
    integrate_all()  # the later decision is placed in the tree first
    clock.now = T0  # a request decided before it, recorded only now
    earlier = api.verify(sign(world.cl), "CN").json()
    assert earlier["evaluated_at"] == T0.isoformat().replace("+00:00", "Z")
    integrate_all()
    rows = {answer["id"]: Verification.objects.get(id=answer["id"]) for answer in (later, earlier)}
    assert rows[earlier["id"]].created_at == T0  # not moved to the later one's instant
    assert rows[later["id"]].created_at == T0 + timedelta(hours=1)
    assert seq_of(rows[earlier["id"]]) > seq_of(rows[later["id"]])  # leaf order is not time order

    listed = regulator.get(LIST).json()["results"]
    assert [row["id"] for row in listed] == [earlier["id"], later["id"]]  # time order
    assert [row["seq"] for row in listed] == [seq_of(rows[earlier["id"]]), seq_of(rows[later["id"]])]
    assert listed[0]["entry"] == expected_entry(rows[earlier["id"]]).decode()
    hour = rfc3339(T0 + timedelta(hours=1))
    assert [row["id"] for row in regulator.get(LIST, {"since": hour}).json()["results"]] == [later["id"]]
    assert [row["id"] for row in regulator.get(LIST, {"until": hour}).json()["results"]] == [earlier["id"]]
    jsonl = b"".join(regulator.get(LIST, {"format": "jsonl"}).streaming_content).splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == [earlier["id"], later["id"]]


# Exactly the rows of the range -----------------------------------------------------------------


@pytest.fixture
def edges(world) -> list[Verification]:
    """Eight rows over three instants: a batch of three at T; a batch of two
    and a single row at T+1s; one at T+2s; then, once the integrator has
    placed those, one decided at T+1s and recorded only now, which keeps
    its instant (the chain recorded it at T+2s) and takes the last leaf."""
    rows = [recorded.row for recorded in record_decisions([entry()] * 3, at=T)]
    rows += [recorded.row for recorded in record_decisions([entry(destination="KZ")] * 2, at=T + SECOND)]
    rows += [recorded.row for recorded in record_decisions([entry()], at=T + SECOND)]
    rows += [recorded.row for recorded in record_decisions([entry(destination="KZ")], at=T + 2 * SECOND)]
    integrate_all()
    rows += [recorded.row for recorded in record_decisions([entry()], at=T + SECOND)]
    integrate_all()
    assert sorted(row.created_at - T for row in rows) == [timedelta(0)] * 3 + [SECOND] * 4 + [2 * SECOND]
    assert seq_of(rows[-1]) == max(seq_of(row) for row in rows)  # placed last, listed among the T+1s rows
    return rows


def walk(client: APIClient, query: dict, *, back: bool = False) -> list[str]:
    """The ids of every page, following `next`, then (back) from the last
    page following `previous`, two rows a page."""
    pages, response = [], client.get(LIST, {**query, "page_size": 2})
    while True:
        assert response.status_code == 200, response.content
        pages.append(response.json())
        if not pages[-1]["next"]:
            break
        response = client.get(pages[-1]["next"])
    if back:
        pages = [pages[-1]]
        while pages[-1]["previous"]:
            pages.append(client.get(pages[-1]["previous"]).json())
        pages.reverse()
    return [row["id"] for page in pages for row in page["results"]]


EDGES = [None] + [T + n * SECOND + shift for n in range(3) for shift in (-MICROSECOND, timedelta(0), MICROSECOND)]


def test_every_range_selects_exactly_the_rows_created_inside_it_page_by_page_both_ways(regulator, edges):
    for since in EDGES:
        for until in EDGES:
            if since is not None and until is not None and since >= until:
                continue
            for destination in (None, "KZ"):
                query = {"since": since, "until": until, "destination": destination}
                query = {name: rfc3339(v) if isinstance(v, datetime) else v for name, v in query.items() if v}
                expected = in_time_order(
                    [
                        row
                        for row in edges
                        if (since is None or row.created_at >= since)
                        and (until is None or row.created_at < until)
                        and (destination is None or row.destination == destination)
                    ]
                )
                assert walk(regulator, query) == expected, query
                assert walk(regulator, query, back=True) == expected, query


def test_exports_select_the_same_rows_as_the_pages(regulator, edges):
    query = {"since": rfc3339(T + SECOND), "until": rfc3339(T + 2 * SECOND)}
    lines = b"".join(regulator.get(LIST, {**query, "format": "jsonl"}).streaming_content).splitlines()
    expected = in_time_order([row for row in edges if row.created_at == T + SECOND])
    assert len(expected) == 4 and walk(regulator, query) == expected
    assert [json.loads(line)["id"] for line in lines] == expected


def test_a_range_after_the_last_row_or_before_the_first_is_empty(regulator, edges):
    assert walk(regulator, {"since": rfc3339(T + 2 * SECOND + MICROSECOND)}) == []
    assert walk(regulator, {"until": rfc3339(T)}) == []
    assert walk(regulator, {"since": rfc3339(T - SECOND), "until": rfc3339(T)}) == []


def cursor(at: datetime, id: str, *, reverse: bool = False) -> str:
    """A cursor as the API writes it (tests/api/test_audit_api.py holds the format)."""
    fields = {"t": rfc3339(at), "i": id, "r": reverse}
    return base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode()


def test_a_cursor_outside_the_range_gives_an_empty_page_never_a_500(regulator, edges):
    inside = {"since": rfc3339(T + SECOND), "until": rfc3339(T + 2 * SECOND)}
    rows = in_time_order([row for row in edges if row.created_at == T + SECOND])
    first, last = rows[0], rows[-1]

    def page(at: datetime, id: str, *, reverse: bool = False) -> list[str]:
        response = regulator.get(LIST, {**inside, "cursor": cursor(at, id, reverse=reverse)})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert page(T + SECOND, last) == []
    assert page(T + SECOND, first, reverse=True) == []
    before = in_time_order(edges)[0]  # a row at T, before the range
    assert page(T, before) == rows
    assert page(T, before, reverse=True) == []
    after = in_time_order(edges)[-1]  # the row at T+2s, after the range
    assert page(T + 2 * SECOND, after) == []
    assert page(T + 2 * SECOND, after, reverse=True) == rows
    for far in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"):
        at = datetime.fromisoformat(far.replace("Z", "+00:00"))
        forward, back = page(at, first), page(at, first, reverse=True)
        assert (forward, back) == ((rows, []) if at < T else ([], rows)), far


# A row changed behind the application's back ---------------------------------------------------


def test_a_row_moved_in_time_behind_the_log_is_shown_where_it_says_and_named_by_the_integrity_check(regulator, world):
    rows = [record_decisions([entry()], at=T + n * SECOND)[0].row for n in range(3)]
    integrate_all()
    moved = rows[2]
    stored_at = connection.ops.adapt_datetimefield_value(T - timedelta(hours=1))
    stored_id = Verification._meta.pk.get_db_prep_value(moved.id, connection)
    tamper("UPDATE recognition_verification SET created_at = %s WHERE id = %s", [stored_at, stored_id])

    # The range filters never show a row outside the range, by its column.
    assert walk(regulator, {"since": rfc3339(T + SECOND)}) == [str(rows[1].id)]
    assert walk(regulator, {"until": rfc3339(T)}) == [str(moved.id)]
    # Listed where its column puts it, its entry still holding the instant recorded.
    (shown, *_) = regulator.get(LIST).json()["results"]
    assert (shown["id"], shown["created_at"]) == (str(moved.id), "2026-02-28T23:00:00.000000Z")
    assert json.loads(shown["entry"])["created_at"] == "2026-03-01T00:00:02.000000Z"
    assert shown["entry"] == expected_entry(moved).decode()
    report = regulator.get("/api/v1/audit/integrity/").json()
    assert (report["intact"], report["first_bad_seq"]) == (False, seq_of(moved))


# Who may ask ---------------------------------------------------------------------------------------


def test_a_time_range_is_for_regulators_only(world, platform_key, edges):
    query = {"since": rfc3339(T), "until": rfc3339(T + SECOND)}
    error_of(APIClient().get(LIST, query), 401, "not_authenticated")
    error_of(keyed("nope.wrong").get(LIST, query), 401, "authentication_failed")
    error_of(keyed(platform_key).get(LIST, query), 403, "forbidden")
    error_of(keyed(platform_key).get(LIST, {**query, "format": "csv"}), 403, "forbidden")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"since": rfc3339(T + SECOND), "until": rfc3339(T + SECOND)}, "until: must be after since"),
        ({"since": rfc3339(T + SECOND), "until": rfc3339(T)}, "until: must be after since"),
        ({"since": "2026-03-01T00:00:01"}, "since: '2026-03-01T00:00:01' is not an RFC 3339 UTC time"),
        ({"until": "2026-03-01T08:00:00+08:00"}, "until:"),
    ],
)
def test_an_empty_or_reversed_or_unreadable_range_is_a_400(regulator, edges, query, named):
    assert named in error_of(regulator.get(LIST, query), 400, "invalid_request")
