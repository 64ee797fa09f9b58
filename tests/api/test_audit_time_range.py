"""`since` and `until` on the audit log (DESIGN §6, §10). The chain
keeps created_at in seq order (an append evaluated before the head's instant
is recorded at the head's: tests/recognition/services/test_audit.py), so the
API turns a time range into seq bounds: it must select exactly the rows a
plain comparison of created_at selects, at every edge, with rows sharing an
instant, page by page in both directions. check_chain reports a row recorded
earlier than the one before it."""

from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from recognition.models import Verification
from recognition.services.audit import ChainReport, audit_commit, chain_hash, check_chain, hashed_fields
from tests.support.audit import entry, tamper
from tests.support.cli import call
from tests.support.clock import T0
from tests.support.tokens import sign

LIST = "/api/v1/audit/verifications/"
T = datetime(2026, 3, 1, tzinfo=UTC)
SECOND, MICROSECOND = timedelta(seconds=1), timedelta(microseconds=1)


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def created(seq: int) -> datetime:
    return Verification.objects.get(seq=seq).created_at


# created_at never decreases along the chain -------------------------------------------------------


def test_the_answer_keeps_its_evaluation_instant_when_the_row_takes_the_head_instant(world, api, clock):
    clock.now = T0 + timedelta(hours=1)
    assert api.verify(sign(world.cl), "CN").status_code == 200
    clock.now = T0  # read before the previous append took the chain's lock
    answer = api.verify(sign(world.cl), "CN").json()
    assert answer["evaluated_at"] == T0.isoformat().replace("+00:00", "Z")
    assert answer["audit"]["seq"] == 2
    assert created(2) == created(1) == T0 + timedelta(hours=1)
    assert check_chain().intact


# Exactly the rows of the range -----------------------------------------------------------------


@pytest.fixture
def edges(world) -> list[Verification]:
    """Eight rows over three instants: a batch of three at T; a batch of two
    and a single row at T+1s; one at T+2s; then one evaluated at T+1s, which
    the chain records at T+2s."""
    audit_commit([entry()] * 3, at=T)
    audit_commit([entry(destination="KZ")] * 2, at=T + SECOND)
    audit_commit([entry()], at=T + SECOND)
    audit_commit([entry(destination="KZ")], at=T + 2 * SECOND)
    audit_commit([entry()], at=T + SECOND)
    rows = list(Verification.objects.order_by("seq"))
    assert [row.created_at - T for row in rows] == [timedelta(0)] * 3 + [SECOND] * 3 + [2 * SECOND] * 2
    return rows


def walk(client: APIClient, query: dict, *, back: bool = False) -> list[int]:
    """The seqs of every page, following `next`, then (back) from the last
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
    return [row["seq"] for page in pages for row in page["results"]]


EDGES = [None] + [T + n * SECOND + shift for n in range(3) for shift in (-MICROSECOND, timedelta(0), MICROSECOND)]


def test_every_range_selects_exactly_the_rows_created_inside_it_page_by_page_both_ways(regulator, edges):
    for since in EDGES:
        for until in EDGES:
            if since is not None and until is not None and since >= until:
                continue
            for destination in (None, "KZ"):
                query = {"since": since, "until": until, "destination": destination}
                query = {name: rfc3339(v) if isinstance(v, datetime) else v for name, v in query.items() if v}
                expected = [
                    row.seq
                    for row in edges
                    if (since is None or row.created_at >= since)
                    and (until is None or row.created_at < until)
                    and (destination is None or row.destination == destination)
                ]
                assert walk(regulator, query) == expected, query
                assert walk(regulator, query, back=True) == expected, query


def test_exports_select_the_same_rows_as_the_pages(regulator, edges):
    query = {"since": rfc3339(T + SECOND), "until": rfc3339(T + 2 * SECOND)}
    lines = b"".join(regulator.get(LIST, {**query, "format": "jsonl"}).streaming_content).splitlines()
    assert len(lines) == 3 and walk(regulator, query) == [4, 5, 6]


def test_a_range_after_the_last_row_or_before_the_first_is_empty(regulator, edges):
    assert walk(regulator, {"since": rfc3339(T + 2 * SECOND + MICROSECOND)}) == []
    assert walk(regulator, {"until": rfc3339(T)}) == []
    assert walk(regulator, {"since": rfc3339(T - SECOND), "until": rfc3339(T)}) == []


def cursor(position: int, *, reverse: bool = False) -> str:
    return b64encode(f"p={position}{'&r=1' if reverse else ''}".encode()).decode()


def test_a_cursor_outside_the_range_gives_an_empty_page_never_a_500(regulator, edges):
    inside = {"since": rfc3339(T + SECOND), "until": rfc3339(T + 2 * SECOND)}  # seq 4 to 6
    assert regulator.get(LIST, {**inside, "cursor": cursor(6)}).json()["results"] == []
    assert regulator.get(LIST, {**inside, "cursor": cursor(4, reverse=True)}).json()["results"] == []
    assert [row["seq"] for row in regulator.get(LIST, {**inside, "cursor": cursor(1)}).json()["results"]] == [4, 5, 6]
    for position in (9223372036854775807, 9999999999999999999):  # the largest bigint; past it
        response = regulator.get(LIST, {**inside, "cursor": cursor(position)})
        assert (response.status_code, response.json()["results"]) == (200, [])
        back = regulator.get(LIST, {**inside, "cursor": cursor(position, reverse=True)})
        assert [row["seq"] for row in back.json()["results"]] == [4, 5, 6]


# check_chain holds the order ---------------------------------------------------------------------


def rewrite_created_at(seq: int, value: datetime) -> None:
    """Give row `seq` another created_at and the hash that goes with it, as
    someone with the table owner's rights could."""
    row = Verification.objects.get(seq=seq)
    row.created_at = value
    new_hash = chain_hash(row.prev_hash, hashed_fields(row))
    stored = connection.ops.adapt_datetimefield_value(value)
    tamper("UPDATE recognition_verification SET created_at = %s, hash = %s WHERE seq = %s", [stored, new_hash, seq])


def test_check_chain_reports_a_row_recorded_earlier_than_the_one_before_it(world, regulator):
    for n in range(3):
        audit_commit([entry()], at=T + n * SECOND)
    second = Verification.objects.get(seq=2)
    rewrite_created_at(3, T - timedelta(hours=1))  # its hash and its link still verify

    assert check_chain() == ChainReport(intact=False, records=3, head=second.hash, first_broken_seq=3)
    with pytest.raises(CommandError, match=r"^audit chain broken at seq 3 \(3 records\)$"):
        call("verify_audit_chain")
    assert regulator.get("/api/v1/audit/integrity/").json()["first_broken_seq"] == 3
    # The range filters never show a row outside the range, order broken or not.
    assert walk(regulator, {"since": rfc3339(T + SECOND)}) == [2]
