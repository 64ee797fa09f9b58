"""The audit API for regulators (DESIGN §6, §7, §10): GET
/api/v1/audit/verifications/ with its filters (every one, the reason code on
SQLite and PostgreSQL alike), cursor pagination without duplicates or gaps,
CSV and JSON Lines exports that stream exactly the filtered rows, and GET
/api/v1/audit/integrity/ intact, then broken by a row changed behind the
application's back. Regulators only."""

import csv
import hashlib
import io
import json
from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from recognition.api import audit as audit_api
from recognition.models import Verification
from recognition.services.audit import audit_commit
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.support.api import error_of, keyed, session
from tests.support.audit import entry, tamper
from tests.support.tokens import sign

LIST = "/api/v1/audit/verifications/"
INTEGRITY = "/api/v1/audit/integrity/"
COLUMNS = [
    "id", "seq", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject",
    "jti", "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "prev_hash", "hash",
]  # fmt: skip


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def seqs(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["seq"] for row in response.json()["results"]]


def all_rows(client: APIClient, query: dict) -> list[dict]:
    """Every row of the JSON pages, following `next`."""
    rows, response = [], client.get(LIST, {**query, "page_size": 200})
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


@pytest.fixture
def decisions(world, api) -> dict[str, Verification]:
    """Five decisions, one of each kind that the filters tell apart."""
    made = {
        "cl_in_cn": api.verify(sign(world.cl), "CN", "CL"),  # accepted under the agreement
        "kz_in_cn": api.verify(sign(world.kz), "CN", "KZ"),  # no_agreement
        "cn_in_cn": api.verify(sign(world.cn), "CN"),  # accepted, domestic
        "cl_in_kz": api.verify(sign(world.cl, assurance="high"), "KZ", "VN"),  # several reasons
        "garbage": api.verify("not-a-jws", "CL"),  # malformed_token
    }
    assert all(response.status_code == 200 for response in made.values())
    return {name: Verification.objects.get(id=response.json()["id"]) for name, response in made.items()}


# Rows, field for field -----------------------------------------------------------------------


def test_a_row_shows_every_audit_field_and_recomputes_its_hash(world, regulator, decisions):
    response = regulator.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert (body["next"], body["previous"]) == (None, None)
    assert [row["seq"] for row in body["results"]] == [1, 2, 3, 4, 5]
    record = decisions["cl_in_cn"]
    first = body["results"][0]
    assert list(first) == COLUMNS
    assert first == {
        "id": str(record.id),
        "seq": 1,
        "created_at": record.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "client": "shop-platform",
        "destination": "CN",
        "origin": "CL",
        "declared_origin": "CL",
        "issuer": "https://registro-cl.test/issuer",
        "kid": world.cl.key.kid,
        "subject": "CL-0001",
        "jti": record.jti,
        "token_sha256": record.token_sha256,
        "decision": "accepted",
        "reasons": [],
        "agreement_id": world.cn_recognizes_cl.id,
        "agreement_version": record.agreement_version,
        "prev_hash": "0" * 64,
        "hash": record.hash,
    }
    # DESIGN §6 from the answer alone: hash = SHA-256(prev_hash || canonical JSON of the other fields).
    prev = "0" * 64
    for row in body["results"]:
        fields = {name: value for name, value in row.items() if name not in ("prev_hash", "hash")}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["prev_hash"] == prev
        assert row["hash"] == hashlib.sha256(prev.encode() + canonical.encode()).hexdigest()
        prev = row["hash"]


# Filters -------------------------------------------------------------------------------------


def test_filter_by_destination_origin_issuer_and_decision(world, regulator, decisions):
    assert seqs(regulator.get(LIST, {"destination": "CN"})) == [1, 2, 3]
    assert seqs(regulator.get(LIST, {"destination": "KZ"})) == [4]
    assert seqs(regulator.get(LIST, {"origin": "CL"})) == [1, 4]
    assert seqs(regulator.get(LIST, {"origin": "KZ"})) == [2]
    assert seqs(regulator.get(LIST, {"issuer": world.cl.authority.issuer})) == [1, 4]
    assert seqs(regulator.get(LIST, {"issuer": world.cl.authority.issuer + "/"})) == []
    assert seqs(regulator.get(LIST, {"decision": "accepted"})) == [1, 3]
    assert seqs(regulator.get(LIST, {"decision": "rejected"})) == [2, 4, 5]
    assert seqs(regulator.get(LIST, {"decision": "rejected", "destination": "CN"})) == [2]


def test_origin_filter_matches_verified_origins_never_declared_ones(world, api, regulator):
    forged = sign(world.cl)[:-6] + "AAAAAA"
    assert api.verify(forged, "CN", "CL").json()["reasons"][0]["code"] == "invalid_signature"  # seq 1
    assert api.verify(sign(world.kz), "CN", "CL").status_code == 200  # seq 2: origin_mismatch, verified KZ

    assert seqs(regulator.get(LIST, {"origin": "CL"})) == []
    assert seqs(regulator.get(LIST, {"origin": "KZ"})) == [2]
    assert [(row["origin"], row["declared_origin"]) for row in regulator.get(LIST).json()["results"]] == [
        ("", "CL"),
        ("KZ", "CL"),
    ]


def test_filter_by_reason_code_matches_exactly_the_rows_listing_it(regulator, decisions):
    assert decisions["cl_in_kz"].reasons == ["origin_mismatch", "no_agreement"]
    assert seqs(regulator.get(LIST, {"reason": "no_agreement"})) == [2, 4]
    assert seqs(regulator.get(LIST, {"reason": "origin_mismatch"})) == [4]
    assert seqs(regulator.get(LIST, {"reason": "malformed_token"})) == [5]
    assert seqs(regulator.get(LIST, {"reason": "expired"})) == []
    assert seqs(regulator.get(LIST, {"reason": "no_agreement", "destination": "CN"})) == [2]


def test_reason_filter_is_not_a_pattern(regulator, decisions, world):
    # An underscore is a LIKE wildcard; a code is matched whole and quoted.
    audit_commit([entry(reasons=["noXagreement_suffix"]), entry(reasons=["key_compromised"])], at=datetime.now(UTC))
    assert seqs(regulator.get(LIST, {"reason": "no_agreement"})) == [2, 4]
    assert seqs(regulator.get(LIST, {"reason": "key_compromised"})) == [7]


@pytest.fixture
def timeline(world) -> list[datetime]:
    """Three rows, one an hour, from 2026-03-01T00:00:00Z."""
    times = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=hour) for hour in range(3)]
    for at in times:
        audit_commit([entry()], at=at)
    return times


def test_filter_by_time_range_since_inclusive_until_exclusive(regulator, timeline):
    assert seqs(regulator.get(LIST, {"since": "2026-03-01T01:00:00Z"})) == [2, 3]
    assert seqs(regulator.get(LIST, {"until": "2026-03-01T01:00:00Z"})) == [1]
    assert seqs(regulator.get(LIST, {"since": "2026-03-01T00:00:00.000001Z", "until": "2026-03-01T02:00:00Z"})) == [2]
    # the same instant with a zero offset (the + encoded by the client), in lower case, with nanoseconds
    assert seqs(regulator.get(LIST, {"since": "2026-03-01T01:00:00+00:00"})) == [2, 3]
    assert seqs(regulator.get(LIST + "?since=2026-03-01t01:00:00.000000000z")) == [2, 3]
    assert seqs(regulator.get(LIST, {"since": "2026-02-28T23:59:59-00:00", "until": "2026-03-01T02:30:00Z"})) == [
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("since=2026-03-01", "since: '2026-03-01' is not an RFC 3339 UTC time"),
        # UTC only, as everywhere else (core/instants.py); the message gives the UTC instant
        (
            "since=2026-03-01T09:00:00%2B08:00",
            "since: '2026-03-01T09:00:00+08:00' is not in UTC; give the same instant in UTC: 2026-03-01T01:00:00Z",
        ),
        ("since=2026-03-01T00:00:00", "since: '2026-03-01T00:00:00' is not an RFC 3339"),
        ("until=yesterday", "until: 'yesterday' is not"),
        ("since=2026-02-30T00:00:00Z", "since:"),
        ("until=9999-12-31T23:00:00-05:00", "until:"),  # past year 9999 in UTC
        ("since=2026-03-01T24:00:00Z", "since:"),
        ("since=2026-03-01T00:00:00+08:00", "send a '+' in a query string as %2B"),  # + decoded as a space
        ("since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until: must be after since"),
        ("destination=cn", "destination: 'cn' is not an ISO 3166-1 alpha-2"),
        ("origin=XX", "origin: 'XX' is not"),
        ("decision=maybe", "decision:"),
        ("reason=bogus_code", "reason:"),
        ("format=xml", "format:"),
        ("page_size=500", "page_size:"),
        ("page=2", "unknown query parameters: page"),
        ("cursor=%25%25%25", "cursor: not a cursor given by this API"),
        ("format=csv&cursor=cD0x", "cursor: applies to format=json only"),
        ("format=jsonl&page_size=10", "page_size: applies to format=json only"),
        ("decision=accepted&decision=rejected", "decision: given more than once"),
    ],
)
def test_bad_query_is_a_400_naming_the_parameter(regulator, timeline, query, named):
    assert named in error_of(regulator.get(f"{LIST}?{query}"), 400, "invalid_request")


@pytest.mark.parametrize("position", ["abc", "1e3", "-1", "99999999999999999999", "1 OR 1=1"])
def test_a_forged_cursor_is_a_400_never_a_500(regulator, timeline, position):
    cursor = b64encode(f"p={position}".encode()).decode()
    error_of(regulator.get(LIST, {"cursor": cursor}), 400, "invalid_request")
    offset = b64encode(b"o=5&p=1").decode()  # ours never carry an offset: seq is unique
    error_of(regulator.get(LIST, {"cursor": offset}), 400, "invalid_request")


# Cursor pagination ---------------------------------------------------------------------------


@pytest.fixture
def many_rows(world) -> int:
    """130 decisions (more than two default pages), every third one in KZ."""
    requests = [VerificationRequest(token="x", destination="KZ" if i % 3 == 0 else "CN") for i in range(130)]
    verify_credentials(requests, client="bulk")
    return 130


def test_cursor_pages_walk_every_row_once_forward_and_back(regulator, many_rows):
    pages, response = [], regulator.get(LIST)
    while True:
        body = response.json()
        pages.append(body)
        if not body["next"]:
            break
        response = regulator.get(body["next"])
    assert [len(page["results"]) for page in pages] == [50, 50, 30]
    walked = [row["seq"] for page in pages for row in page["results"]]
    assert walked == list(range(1, many_rows + 1))
    assert pages[0]["previous"] is None and "cursor=" in pages[0]["next"]
    back = regulator.get(pages[-1]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    assert regulator.get(back["previous"]).json()["results"] == pages[0]["results"]


def test_a_cursor_past_every_row_is_an_empty_page(regulator, timeline):
    cursor = b64encode(b"p=9223372036854775807").decode()
    assert regulator.get(LIST, {"cursor": cursor}).json()["results"] == []
    beyond = b64encode(b"p=9999999999999999999").decode()  # past PostgreSQL's bigint
    assert regulator.get(LIST, {"cursor": beyond}).json()["results"] == []


def test_cursor_pages_keep_the_filter_and_page_size(regulator, many_rows):
    kz = [seq for seq in range(1, many_rows + 1) if (seq - 1) % 3 == 0]
    walked, response = [], regulator.get(LIST, {"destination": "KZ", "page_size": 7})
    while True:
        body = response.json()
        assert len(body["results"]) <= 7
        walked += [row["seq"] for row in body["results"]]
        if not body["next"]:
            break
        assert "destination=KZ" in body["next"] and "page_size=7" in body["next"]
        response = regulator.get(body["next"])
    assert walked == kz


def test_a_cursor_page_queries_by_seq_not_by_offset(regulator, many_rows):
    second = regulator.get(LIST).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        assert regulator.get(second).status_code == 200
    (select,) = [q["sql"] for q in queries.captured_queries if "recognition_verification" in q["sql"]]
    assert '"recognition_verification"."seq" > 50' in select
    assert "OFFSET" not in select.upper()


# Exports -------------------------------------------------------------------------------------


def content_of(response) -> str:
    assert response.status_code == 200
    assert response.streaming is True
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exports_stream_the_same_rows_as_the_json_pages(regulator, decisions, many_rows, fmt):
    query = {"destination": "CN", "decision": "rejected"}
    expected = all_rows(regulator, query)
    assert len(expected) > 50 and all(r["destination"] == "CN" and r["decision"] == "rejected" for r in expected)
    response = regulator.get(LIST, {**query, "format": fmt})
    assert response["Content-Disposition"].startswith('attachment; filename="audit-verifications-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert response["Cache-Control"] == "no-store"
    text = content_of(response)
    if fmt == "jsonl":
        assert response["Content-Type"] == "application/jsonl; charset=utf-8"
        assert text.endswith("\n")
        assert [json.loads(line) for line in text.splitlines()] == expected
    else:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == COLUMNS
        assert table[1:] == [[as_cell(value) for value in row.values()] for row in expected]


def as_cell(value) -> str:
    """The CSV cell the README promises for a JSON value (formula starts prefixed with ')."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    text = str(value)
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_an_export_of_nothing_is_a_header_or_an_empty_file(regulator, decisions):
    assert content_of(regulator.get(LIST, {"format": "csv", "destination": "FR"})) == ",".join(COLUMNS) + "\r\n"
    assert content_of(regulator.get(LIST, {"format": "jsonl", "destination": "FR"})) == ""


def test_an_export_reads_the_database_only_as_it_is_sent(regulator, many_rows, monkeypatch):
    monkeypatch.setattr(audit_api, "EXPORT_WRITE_ROWS", 20)
    with CaptureQueriesContext(connection) as queries:
        response = regulator.get(LIST, {"format": "jsonl"})
        assert response.streaming is True
        assert not [q for q in queries.captured_queries if "recognition_verification" in q["sql"]]
        chunks = list(response.streaming_content)
    assert [q for q in queries.captured_queries if "recognition_verification" in q["sql"]]
    assert len(chunks) == 7  # 130 rows, 20 a write
    assert sum(chunk.count(b"\n") for chunk in chunks) == many_rows


def test_csv_cells_that_a_spreadsheet_would_run_are_defused_and_jsonl_keeps_them(world, api, regulator):
    hostile = '=HYPERLINK("https://evil.test","x")'
    assert api.verify(sign(world.cl, iss=hostile, sub="+1-555"), "CN").status_code == 200
    table = list(csv.reader(io.StringIO(content_of(regulator.get(LIST, {"format": "csv"})))))
    row = dict(zip(table[0], table[1], strict=True))
    assert (row["issuer"], row["subject"]) == ("'" + hostile, "'+1-555")
    (line,) = content_of(regulator.get(LIST, {"format": "jsonl"})).splitlines()
    assert (json.loads(line)["issuer"], json.loads(line)["subject"]) == (hostile, "+1-555")
    assert seqs(regulator.get(LIST, {"issuer": hostile})) == [1]


def test_a_bad_filter_on_an_export_is_a_json_400(regulator, decisions):
    response = regulator.get(LIST, {"format": "csv", "since": "today"})
    assert response["Content-Type"] == "application/json"
    error_of(response, 400, "invalid_request")


def test_json_pages_whatever_the_accept_header(regulator, decisions):
    response = regulator.get(LIST, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


# Integrity -----------------------------------------------------------------------------------


def test_integrity_of_an_empty_log(world, regulator):
    assert regulator.get(INTEGRITY).json() == {"intact": True, "records": 0, "head": "0" * 64, "first_broken_seq": None}


def test_integrity_intact_then_broken_by_a_tampered_row(regulator, decisions):
    rows = list(Verification.objects.order_by("seq"))
    response = regulator.get(INTEGRITY)
    assert response.status_code == 200
    assert response.json() == {"intact": True, "records": 5, "head": rows[-1].hash, "first_broken_seq": None}
    tamper("UPDATE recognition_verification SET decision = %s WHERE seq = %s", ["accepted", 2])
    assert regulator.get(INTEGRITY).json() == {
        "intact": False,
        "records": 5,
        "head": rows[0].hash,
        "first_broken_seq": 2,
    }
    error_of(regulator.get(INTEGRITY, {"full": "1"}), 400, "invalid_request")


# Negative roles ------------------------------------------------------------------------------

ENDPOINTS = [LIST, LIST + "?format=csv", INTEGRITY]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_gets_401(world, path):
    response = APIClient().get(path)
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_platform_key_gets_403(world, platform_key, path):
    error_of(keyed(platform_key).get(path), 403, "forbidden")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_country_administrators_and_staff_without_a_role_get_403(world, path):
    staff = get_user_model().objects.create_user("sam", is_staff=True)
    for user in (world.alice, world.bob, staff):
        error_of(session(user).get(path), 403, "forbidden")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_regulators_by_key_or_session_and_the_superuser_may_read(world, regulator, path):
    for client in (regulator, session(world.rita), session(world.root)):
        assert client.get(path).status_code == 200, path
