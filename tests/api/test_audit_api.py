"""The audit API for regulators (DESIGN §6, §7, §10): GET
/api/v1/audit/verifications/ lists the decisions in time order (created_at,
then id), each row with its columns, its leaf index in the log (`seq`, null
until the integrator placed it), its leaf hash and its entry's exact bytes;
every filter, alone and combined (the reason code on SQLite and PostgreSQL
alike); keyset pages without duplicates or gaps, forward and back, also
while decisions arrive; a cursor the API did not give is a 400; CSV and JSON
Lines exports that stream exactly the filtered rows; and GET
/api/v1/audit/integrity/ intact, then broken by a row changed behind the
application's back. Regulators only."""

import base64
import csv
import hashlib
import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.instants import parse_instant
from recognition.api import audit as audit_api
from recognition.log.integrator import integrate_all
from recognition.models import LogEntry, Verification
from recognition.services.audit import record_decisions
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.support.api import error_of, keyed, session
from tests.support.audit import entry, expected_entry, tamper
from tests.support.strategies import PHASES
from tests.support.tokens import sign

LIST = "/api/v1/audit/verifications/"
INTEGRITY = "/api/v1/audit/integrity/"
COLUMNS = [
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "seq", "leaf_hash", "entry",
]  # fmt: skip
T = datetime(2026, 3, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


pytestmark = pytest.mark.usefixtures("fresh_throttle_counters")


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def named(made: dict[str, Verification], *names: str) -> list[str]:
    return [str(made[name].id) for name in names]


def in_time_order(rows) -> list[str]:
    """The ids of `rows` in the log's time order, (created_at, id), worked
    out here (both databases order UUIDs as their 32 hex digits)."""
    return [str(row.id) for row in sorted(rows, key=lambda row: (row.created_at, row.id.hex))]


def all_rows(client: APIClient, query: dict) -> list[dict]:
    """Every row of the JSON pages, following `next`."""
    rows, response = [], client.get(LIST, {**query, "page_size": 200})
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def pages_forward(client: APIClient, query: dict) -> list[dict]:
    pages, response = [], client.get(LIST, query)
    while True:
        assert response.status_code == 200, response.content
        pages.append(response.json())
        if not pages[-1]["next"]:
            return pages
        response = client.get(pages[-1]["next"])


def pages_back(client: APIClient, last: dict) -> list[dict]:
    """From the last page, following `previous` to the first; in page order."""
    pages = [last]
    while pages[-1]["previous"]:
        response = client.get(pages[-1]["previous"])
        assert response.status_code == 200, response.content
        pages.append(response.json())
    return pages[::-1]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def leaf_hash_of(text: str) -> str:
    """RFC 9162 §2.1.1 on the entry as the API shows it, written out again."""
    return b64(hashlib.sha256(b"\x00" + text.encode("utf-8")).digest())


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
    rows = {name: Verification.objects.get(id=response.json()["id"]) for name, response in made.items()}
    instants = [row.created_at for row in rows.values()]
    assert instants == sorted(instants) and len(set(instants)) == 5  # one request after the other
    return rows


ALL = ("cl_in_cn", "kz_in_cn", "cn_in_cn", "cl_in_kz", "garbage")


# Rows, field for field -----------------------------------------------------------------------


def test_a_row_shows_every_field_its_exact_entry_and_leaf_hash(world, regulator, decisions):
    response = regulator.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert (body["next"], body["previous"]) == (None, None)
    assert [row["id"] for row in body["results"]] == named(decisions, *ALL)
    record = decisions["cl_in_cn"]
    first = body["results"][0]
    assert list(first) == COLUMNS
    assert first == {
        "id": str(record.id),
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
        "seq": None,  # the integrator has not run
        "leaf_hash": b64(hashlib.sha256(b"\x00" + expected_entry(record)).digest()),
        "entry": expected_entry(record).decode("utf-8"),
    }
    # DESIGN §6 from the answer alone: the entry is the canonical JSON of the
    # row's fields and its kind, and the leaf hash is SHA-256(0x00 || entry).
    for row in body["results"]:
        fields = json.loads(row["entry"])
        assert fields == {**{name: row[name] for name in COLUMNS[:-3]}, "kind": "decision"}
        assert row["entry"] == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["leaf_hash"] == leaf_hash_of(row["entry"])
        assert row["entry"].encode("utf-8") == bytes(LogEntry.objects.get(id=row["id"]).body)  # the stored bytes


def test_seq_is_null_until_the_integrator_places_the_entry_then_its_leaf_index(regulator, decisions):
    before = all_rows(regulator, {})
    assert [row["seq"] for row in before] == [None] * 5
    integrate_all()
    after = all_rows(regulator, {})
    # The world's registry changes were pending before the decisions: the
    # decisions are the last five leaves, in their time order.
    size = LogEntry.objects.count()
    assert [row["seq"] for row in after] == list(range(size - 5, size))
    assert after == [{**row, "seq": size - 5 + n} for n, row in enumerate(before)]  # nothing else changed
    for row in after:
        proof = regulator.get(f"/api/v1/audit/log/entries/{row['id']}/proof")
        assert proof.status_code == 200, proof.content
        assert (proof.json()["seq"], proof.json()["leaf_hash"], proof.json()["entry"]) == (
            row["seq"],
            row["leaf_hash"],
            row["entry"],
        )


def test_a_change_entry_is_never_listed_as_a_decision(world, regulator, decisions):
    integrate_all()
    assert LogEntry.objects.filter(kind="change").exists()
    assert [row["id"] for row in all_rows(regulator, {})] == named(decisions, *ALL)


# Filters -------------------------------------------------------------------------------------


def test_filter_by_destination_origin_issuer_and_decision(world, regulator, decisions):
    def listed(**query):
        return ids(regulator.get(LIST, query))

    assert listed(destination="CN") == named(decisions, "cl_in_cn", "kz_in_cn", "cn_in_cn")
    assert listed(destination="KZ") == named(decisions, "cl_in_kz")
    assert listed(origin="CL") == named(decisions, "cl_in_cn", "cl_in_kz")
    assert listed(origin="KZ") == named(decisions, "kz_in_cn")
    assert listed(issuer=world.cl.authority.issuer) == named(decisions, "cl_in_cn", "cl_in_kz")
    assert listed(issuer=world.cl.authority.issuer + "/") == []
    assert listed(decision="accepted") == named(decisions, "cl_in_cn", "cn_in_cn")
    assert listed(decision="rejected") == named(decisions, "kz_in_cn", "cl_in_kz", "garbage")
    assert listed(decision="rejected", destination="CN") == named(decisions, "kz_in_cn")


def test_origin_filter_matches_verified_origins_never_declared_ones(world, api, regulator):
    forged = sign(world.cl)[:-6] + "AAAAAA"
    first = api.verify(forged, "CN", "CL").json()
    assert first["reasons"][0]["code"] == "invalid_signature"
    second = api.verify(sign(world.kz), "CN", "CL").json()  # origin_mismatch, verified KZ

    assert ids(regulator.get(LIST, {"origin": "CL"})) == []
    assert ids(regulator.get(LIST, {"origin": "KZ"})) == [second["id"]]
    assert [(row["origin"], row["declared_origin"]) for row in regulator.get(LIST).json()["results"]] == [
        ("", "CL"),
        ("KZ", "CL"),
    ]


def test_filter_by_reason_code_matches_exactly_the_rows_listing_it(regulator, decisions):
    assert decisions["cl_in_kz"].reasons == ["origin_mismatch", "no_agreement"]
    assert ids(regulator.get(LIST, {"reason": "no_agreement"})) == named(decisions, "kz_in_cn", "cl_in_kz")
    assert ids(regulator.get(LIST, {"reason": "origin_mismatch"})) == named(decisions, "cl_in_kz")
    assert ids(regulator.get(LIST, {"reason": "malformed_token"})) == named(decisions, "garbage")
    assert ids(regulator.get(LIST, {"reason": "expired"})) == []
    assert ids(regulator.get(LIST, {"reason": "no_agreement", "destination": "CN"})) == named(decisions, "kz_in_cn")


def test_reason_filter_is_not_a_pattern(regulator, decisions, world):
    # An underscore is a LIKE wildcard; a code is matched whole and quoted.
    recorded = record_decisions(
        [entry(reasons=["noXagreement_suffix"]), entry(reasons=["key_compromised"])], at=datetime.now(UTC)
    )
    assert ids(regulator.get(LIST, {"reason": "no_agreement"})) == named(decisions, "kz_in_cn", "cl_in_kz")
    assert ids(regulator.get(LIST, {"reason": "key_compromised"})) == [str(recorded[1].id)]


# Every filter and combination, against a plain reading of the rows.
ISSUER_A, ISSUER_B = "https://a.test/issuer", "=B"
CHOICES = {
    "destination": ["CN", "KZ", "FR"],
    "origin": ["CL", "KZ"],
    "issuer": [ISSUER_A, ISSUER_B],
    "decision": ["accepted", "rejected"],
    "reason": ["no_agreement", "expired", "origin_mismatch", "key_compromised"],
    "since": [T + SECOND, T + 2 * SECOND],
    "until": [T + 3 * SECOND, T + 4 * SECOND],
}


@pytest.fixture
def varied(world) -> list[Verification]:
    """60 decisions over five instants (batches sharing one), every value of
    CHOICES on some of them and none on others, recorded out of time order."""
    rng = random.Random(7)
    rows = []
    for at in rng.sample([T + n * SECOND for n in range(5)], 5):
        made = []
        for _ in range(12):
            reasons = rng.choice([[], ["no_agreement"], ["expired"], ["origin_mismatch", "no_agreement"]])
            made.append(
                entry(
                    destination=rng.choice(["CN", "KZ", "CL"]),
                    origin=rng.choice(["CL", "KZ", ""]),
                    issuer=rng.choice([ISSUER_A, ISSUER_B, ""]),
                    decision="rejected" if reasons else "accepted",
                    reasons=reasons,
                )
            )
        rows += [recorded.row for recorded in record_decisions(made, at=at)]
    return rows


def selects(row: Verification, query: dict) -> bool:
    return all(
        row.created_at >= value
        if name == "since"
        else row.created_at < value
        if name == "until"
        else value in row.reasons
        if name == "reason"
        else getattr(row, name) == value
        for name, value in query.items()
    )


def as_text(query: dict) -> dict:
    return {
        name: value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else value
        for name, value in query.items()
    }


def test_every_filter_alone_and_combined_selects_exactly_the_rows_it_names(regulator, varied):
    rng = random.Random(11)
    queries = [{name: value} for name, values in CHOICES.items() for value in values]
    for _ in range(60):
        names = rng.sample(list(CHOICES), rng.randint(2, len(CHOICES)))
        queries.append({name: rng.choice(CHOICES[name]) for name in names})
    matched = 0
    for query in queries:
        expected = in_time_order([row for row in varied if selects(row, query)])
        # Seven rows a page, forward then back: the range and the cursor bound the pages together.
        forward = pages_forward(regulator, {**as_text(query), "page_size": 7})
        assert [row["id"] for page in forward for row in page["results"]] == expected, query
        back = pages_back(regulator, forward[-1])
        assert [page["results"] for page in back] == [page["results"] for page in forward], query
        matched += bool(expected)
    assert matched > len(queries) // 2  # the combinations are not all empty


# Time ranges and bad queries -----------------------------------------------------------------


@pytest.fixture
def timeline(world) -> list[Verification]:
    """Three rows, one an hour, from 2026-03-01T00:00:00Z."""
    return [record_decisions([entry()], at=T + timedelta(hours=hour))[0].row for hour in range(3)]


def test_filter_by_time_range_since_inclusive_until_exclusive(regulator, timeline):
    first, second, third = (str(row.id) for row in timeline)
    assert ids(regulator.get(LIST, {"since": "2026-03-01T01:00:00Z"})) == [second, third]
    assert ids(regulator.get(LIST, {"until": "2026-03-01T01:00:00Z"})) == [first]
    assert ids(regulator.get(LIST, {"since": "2026-03-01T00:00:00.000001Z", "until": "2026-03-01T02:00:00Z"})) == [
        second
    ]
    # the same instant with a zero offset (the + encoded by the client), in lower case, with nanoseconds
    assert ids(regulator.get(LIST, {"since": "2026-03-01T01:00:00+00:00"})) == [second, third]
    assert ids(regulator.get(LIST + "?since=2026-03-01t01:00:00.000000000z")) == [second, third]
    assert ids(regulator.get(LIST, {"since": "2026-02-28T23:59:59-00:00", "until": "2026-03-01T02:30:00Z"})) == [
        first,
        second,
        third,
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
        ("since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z", "until: must be after since"),
        ("destination=cn", "destination: 'cn' is not an ISO 3166-1 alpha-2"),
        ("origin=XX", "origin: 'XX' is not"),
        ("decision=maybe", "decision:"),
        ("reason=bogus_code", "reason:"),
        ("format=xml", "format:"),
        ("page_size=500", "page_size:"),
        ("page_size=0", "page_size:"),
        ("page_size=ten", "page_size:"),
        ("page=2", "unknown query parameters: page"),
        ("seq=1", "unknown query parameters: seq"),
        ("offset=50&limit=10", "unknown query parameters: limit, offset"),
        ("cursor=%25%25%25", "cursor: not a cursor given by this API"),
        ("cursor=", "cursor:"),
        ("format=csv&cursor=cD0x", "cursor: applies to format=json only"),
        ("format=jsonl&page_size=10", "page_size: applies to format=json only"),
        ("decision=accepted&decision=rejected", "decision: given more than once"),
        ("since=2026-03-01T00:00:00Z&since=2026-03-01T00:00:00Z", "since: given more than once"),
        ("cursor=cD0x&cursor=cD0x", "cursor: given more than once"),
    ],
)
def test_bad_query_is_a_400_naming_the_parameter(regulator, timeline, query, named):
    assert named in error_of(regulator.get(f"{LIST}?{query}"), 400, "invalid_request")


# Cursors the API did not give -----------------------------------------------------------------


def encoded(value) -> str:
    """base64url of `value` as JSON (or of raw bytes)."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


GOOD = {"t": "2026-03-01T00:30:00.000000Z", "i": "0b6f3c0e-5d0a-4f57-9a52-3f1d2b4c8e11", "r": False}
FORGED = {
    "DRF's own cursor (p=1)": encoded(b"p=1"),
    "an offset": encoded(b"o=5&p=1"),
    "not base64": "%%%",
    "not ASCII": "é",
    "random bytes": encoded(bytes(range(256))),
    "not UTF-8 JSON": encoded(b'{"t": "\xff"}'),
    "a JSON list": encoded(list(GOOD.values())),
    "a JSON string": encoded("2026-03-01T00:00:00Z"),
    "a JSON number": encoded(1),
    "JSON null": encoded(None),
    "an empty object": encoded({}),
    "no t": encoded({"i": GOOD["i"], "r": False}),
    "no i": encoded({"t": GOOD["t"], "r": False}),
    "no r": encoded({"t": GOOD["t"], "i": GOOD["i"]}),
    "one key more": encoded({**GOOD, "p": 1}),
    "t a number": encoded({**GOOD, "t": 1772323200}),
    "t null": encoded({**GOOD, "t": None}),
    "t a list": encoded({**GOOD, "t": [GOOD["t"]]}),
    "t not in UTC": encoded({**GOOD, "t": "2026-03-01T08:00:00+08:00"}),
    "t without an offset": encoded({**GOOD, "t": "2026-03-01T00:00:00"}),
    "t a date": encoded({**GOOD, "t": "2026-03-01"}),
    "t not a day": encoded({**GOOD, "t": "2026-02-30T00:00:00Z"}),
    "t a word": encoded({**GOOD, "t": "now"}),
    "i a number": encoded({**GOOD, "i": 1}),
    "i a big number": encoded({**GOOD, "i": 10**40}),
    "i a list": encoded({**GOOD, "i": [GOOD["i"]]}),
    "i an object": encoded({**GOOD, "i": {"hex": GOOD["i"]}}),
    "i null": encoded({**GOOD, "i": None}),
    "i not a UUID": encoded({**GOOD, "i": "1 OR 1=1"}),
    "i in capitals": encoded({**GOOD, "i": GOOD["i"].upper()}),
    "i without hyphens": encoded({**GOOD, "i": GOOD["i"].replace("-", "")}),
    "i in braces": encoded({**GOOD, "i": "{" + GOOD["i"] + "}"}),
    "r a string": encoded({**GOOD, "r": "false"}),
    "r zero": encoded({**GOOD, "r": 0}),
    "r one": encoded({**GOOD, "r": 1}),
    "r null": encoded({**GOOD, "r": None}),
    "nested deeper than the decoder": encoded(b"[" * 100_000),
    "a number past any float": encoded(b'{"t": 1e999, "i": 1, "r": false}'),
    "a number of 5000 digits": encoded(b'{"t": "x", "i": ' + b"1" * 5000 + b', "r": false}'),
}


@pytest.mark.parametrize("cursor", FORGED.values(), ids=FORGED.keys())
def test_a_cursor_not_given_by_the_api_is_a_400_never_a_500(regulator, timeline, cursor):
    detail = error_of(regulator.get(LIST, {"cursor": cursor}), 400, "invalid_request")
    assert detail == "cursor: not a cursor given by this API"


def test_the_good_cursor_of_the_forged_ones_is_taken(regulator, timeline):
    """The forgeries above differ from it in one thing each."""
    assert ids(regulator.get(LIST, {"cursor": encoded(GOOD)})) == [str(row.id) for row in timeline[1:]]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["t", "i", "r", "p"]), inner),
    max_leaves=12,
)
FUZZ = settings(max_examples=100, deadline=None, database=None, phases=PHASES, suppress_health_check=list(HealthCheck))


@FUZZ
@given(raw=st.binary(max_size=120))
def test_random_bytes_as_a_cursor_are_a_400(regulator, timeline, raw):
    error_of(regulator.get(LIST, {"cursor": encoded(raw)}), 400, "invalid_request")


@FUZZ
@given(value=JSON_VALUES)
def test_random_json_as_a_cursor_is_a_400(regulator, timeline, value):
    error_of(regulator.get(LIST, {"cursor": encoded(value)}), 400, "invalid_request")


@FUZZ
@given(
    t=st.one_of(st.text(max_size=40), st.datetimes(timezones=st.just(UTC)).map(lambda at: at.isoformat())),
    i=st.one_of(st.uuids().map(str), st.text(max_size=40), JSON_VALUES),
    r=st.one_of(st.booleans(), JSON_VALUES),
)
def test_a_cursor_of_the_right_keys_is_taken_exactly_when_each_is_what_the_api_writes(regulator, timeline, t, i, r):
    response = regulator.get(LIST, {"cursor": encoded({"t": t, "i": i, "r": r})})
    try:  # the house's one reading of an instant (core/instants.py, tested on its own)
        taken = isinstance(r, bool) and isinstance(i, str) and str(uuid.UUID(i)) == i and parse_instant(t) is not None
    except ValueError:
        taken = False
    if response.status_code == 200:
        assert taken, (t, i, r)
    else:
        assert error_of(response, 400, "invalid_request") == "cursor: not a cursor given by this API"


# Keyset pages --------------------------------------------------------------------------------


def bulk(count: int) -> list[Verification]:
    """`count` decisions of one batch (one created_at), every third one in KZ."""
    requests = [VerificationRequest(token="x", destination="KZ" if i % 3 == 0 else "CN") for i in range(count)]
    return [outcome.record.row for outcome in verify_credentials(requests, client="bulk")]


@pytest.fixture
def many_rows(world) -> list[Verification]:
    """130 decisions of one batch (more than two default pages), sharing their created_at."""
    return bulk(130)


def test_cursor_pages_walk_every_row_once_forward_and_back(regulator, many_rows):
    assert len({row.created_at for row in many_rows}) == 1  # the order within is the ids'
    pages = pages_forward(regulator, {})
    assert [len(page["results"]) for page in pages] == [50, 50, 30]
    walked = [row["id"] for page in pages for row in page["results"]]
    assert walked == in_time_order(many_rows)
    assert pages[0]["previous"] is None and "cursor=" in pages[0]["next"]
    back = pages_back(regulator, pages[-1])
    assert [page["results"] for page in back] == [page["results"] for page in pages]
    assert back[0]["previous"] is None


def test_one_row_a_page_through_a_batch_sharing_one_instant_both_ways(regulator, world):
    rows = [recorded.row for recorded in record_decisions([entry()] * 2, at=T - SECOND)]
    rows += [recorded.row for recorded in record_decisions([entry(client=f"c{n}") for n in range(100)], at=T)]
    rows += [recorded.row for recorded in record_decisions([entry()] * 2, at=T + SECOND)]
    pages = pages_forward(regulator, {"page_size": 1})
    assert [len(page["results"]) for page in pages] == [1] * 104
    assert [page["results"][0]["id"] for page in pages] == in_time_order(rows)
    back = pages_back(regulator, pages[-1])
    assert [page["results"] for page in back] == [page["results"] for page in pages]


def test_a_link_carries_the_key_of_the_row_it_follows(regulator, many_rows):
    """The cursor is base64url of {"t", "i", "r"}: the page's last row
    (next) or first row (previous, reversed); it keeps the other parameters."""
    first = regulator.get(LIST, {"page_size": 7, "destination": "CN"}).json()
    link = parse_qs(urlparse(first["next"]).query)
    assert (link["page_size"], link["destination"]) == (["7"], ["CN"])
    last = first["results"][-1]
    assert json.loads(base64.urlsafe_b64decode(link["cursor"][0])) == {
        "t": last["created_at"],
        "i": last["id"],
        "r": False,
    }
    second = regulator.get(first["next"]).json()
    link = parse_qs(urlparse(second["previous"]).query)
    top = second["results"][0]
    assert json.loads(base64.urlsafe_b64decode(link["cursor"][0])) == {
        "t": top["created_at"],
        "i": top["id"],
        "r": True,
    }


def test_decisions_recorded_while_paging_neither_repeat_nor_drop_a_row(regulator, world):
    old = [recorded.row for recorded in record_decisions([entry()] * 60, at=T)]
    old += [recorded.row for recorded in record_decisions([entry()] * 60, at=T + SECOND)]
    first = regulator.get(LIST).json()
    second = regulator.get(first["next"]).json()
    read = [row["id"] for page in (first, second) for row in page["results"]]
    assert read == in_time_order(old)[:100]
    cursor_row = Verification.objects.get(id=read[-1])
    assert cursor_row.created_at == T + SECOND
    # New decisions: later ones, more at the instant of the cursor's row (their
    # ids fall on either side of it), and one whose request began before any
    # row read so far but was recorded only now.
    new = [recorded.row for recorded in record_decisions([entry(client="later")] * 5, at=T + 2 * SECOND)]
    new += [recorded.row for recorded in record_decisions([entry(client="same")] * 20, at=T + SECOND)]
    earlier = record_decisions([entry(client="earlier")], at=T - timedelta(hours=1))[0].row

    response, rest = regulator.get(second["next"]), []
    while True:
        body = response.json()
        rest += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = regulator.get(body["next"])

    walked = read + rest
    assert len(walked) == len(set(walked))  # nothing twice
    assert set(str(row.id) for row in old) <= set(walked)  # nothing dropped
    key = (cursor_row.created_at, cursor_row.id.hex)
    after_cursor = [row for row in new if (row.created_at, row.id.hex) > key]
    assert rest == in_time_order([row for row in old + after_cursor if str(row.id) not in read])
    assert str(earlier.id) not in walked  # before the pages already read: not slipped in among later ones
    assert len(after_cursor) > 5  # some of those at the cursor's instant came after it
    # Read again from the start, it is listed in its time place: first.
    assert [row["id"] for row in all_rows(regulator, {})] == in_time_order([*old, *new, earlier])
    assert all_rows(regulator, {})[0]["id"] == str(earlier.id)


def test_cursors_before_and_past_every_row(regulator, timeline):
    before = encoded({"t": "0001-01-01T00:00:00Z", "i": "00000000-0000-4000-8000-000000000000", "r": False})
    past = encoded({"t": "9999-12-31T23:59:59.999999Z", "i": "ffffffff-ffff-4fff-bfff-ffffffffffff", "r": False})
    everything = [str(row.id) for row in timeline]
    assert ids(regulator.get(LIST, {"cursor": before})) == everything
    assert ids(regulator.get(LIST, {"cursor": past})) == []
    past_reversed = encoded({**json.loads(base64.urlsafe_b64decode(past)), "r": True})
    assert ids(regulator.get(LIST, {"cursor": past_reversed})) == everything
    assert regulator.get(LIST, {"cursor": past_reversed}).json()["previous"] is None
    before_reversed = encoded({**json.loads(base64.urlsafe_b64decode(before)), "r": True})
    assert ids(regulator.get(LIST, {"cursor": before_reversed})) == []


def test_cursor_pages_keep_the_filter_and_page_size(regulator, many_rows):
    kz = in_time_order([row for row in many_rows if row.destination == "KZ"])
    walked, response = [], regulator.get(LIST, {"destination": "KZ", "page_size": 7})
    while True:
        body = response.json()
        assert len(body["results"]) <= 7
        walked += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        assert "destination=KZ" in body["next"] and "page_size=7" in body["next"]
        response = regulator.get(body["next"])
    assert walked == kz and len(kz) == 44


def test_a_cursor_page_is_a_keyset_query_not_an_offset(regulator, many_rows):
    first = regulator.get(LIST).json()
    last = Verification.objects.get(id=first["results"][-1]["id"])
    with CaptureQueriesContext(connection) as queries:
        assert regulator.get(first["next"]).status_code == 200
    (select,) = [q["sql"] for q in queries.captured_queries if '"recognition_verification"' in q["sql"]]
    assert "OFFSET" not in select.upper()
    assert select.endswith("LIMIT 51")
    assert 'ORDER BY "recognition_verification"."created_at" ASC, "recognition_verification"."id" ASC' in select
    # One row comparison, which both databases read as a range of the (created_at, id) index.
    assert '("recognition_verification"."created_at", "recognition_verification"."id") > (' in select
    assert last.id.hex in select.replace("-", "")


# Exports -------------------------------------------------------------------------------------


def content_of(response) -> str:
    assert response.status_code == 200
    assert response.streaming is True
    return b"".join(response.streaming_content).decode("utf-8")


def as_cell(value) -> str:
    """The CSV cell the README promises for a JSON value (formula starts prefixed with ')."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    text = str(value)
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exports_stream_the_same_rows_as_the_json_pages(regulator, decisions, fmt):
    integrate_all()  # these rows have a leaf index; the bulk below none yet
    bulk(130)
    query = {"destination": "CN", "decision": "rejected"}
    expected = all_rows(regulator, query)
    assert len(expected) > 50 and all(r["destination"] == "CN" and r["decision"] == "rejected" for r in expected)
    assert expected[0]["seq"] is not None and expected[-1]["seq"] is None
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


def test_exports_list_rows_in_time_order_not_in_the_order_recorded(regulator, world):
    late = record_decisions([entry(client="late")], at=T + SECOND)[0].row
    early = record_decisions([entry(client="early")] * 3, at=T)
    rows = [late, *(recorded.row for recorded in early)]
    for fmt in ("csv", "jsonl"):
        text = content_of(regulator.get(LIST, {"format": fmt}))
        lines = text.splitlines()[1:] if fmt == "csv" else text.splitlines()
        shown = [line.split(",")[0] if fmt == "csv" else json.loads(line)["id"] for line in lines]
        assert shown == in_time_order(rows), fmt


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
    assert sum(chunk.count(b"\n") for chunk in chunks) == len(many_rows)


def test_csv_cells_that_a_spreadsheet_would_run_are_defused_and_jsonl_keeps_them(world, api, regulator):
    hostile = '=HYPERLINK("https://evil.test","x")'
    assert api.verify(sign(world.cl, iss=hostile, sub="+1-555"), "CN").status_code == 200
    table = list(csv.reader(io.StringIO(content_of(regulator.get(LIST, {"format": "csv"})))))
    row = dict(zip(table[0], table[1], strict=True))
    assert (row["issuer"], row["subject"]) == ("'" + hostile, "'+1-555")
    (line,) = content_of(regulator.get(LIST, {"format": "jsonl"})).splitlines()
    shown = json.loads(line)
    assert (shown["issuer"], shown["subject"]) == (hostile, "+1-555")
    # The entry's bytes are exact in both: a JSON object, which no spreadsheet runs.
    assert row["entry"] == shown["entry"] and json.loads(row["entry"])["issuer"] == hostile
    assert ids(regulator.get(LIST, {"issuer": hostile})) == [shown["id"]]


def test_every_formula_start_is_defused_in_every_text_column(regulator, world):
    starts = {"client": "+c", "issuer": "=1+1", "kid": "@SUM(A1)", "subject": "-2", "jti": "\tj", "token_sha256": "\rt"}
    (recorded,) = record_decisions([entry(**starts)], at=T)
    table = list(csv.reader(io.StringIO(content_of(regulator.get(LIST, {"format": "csv"})))))
    row = dict(zip(table[0], table[1], strict=True))
    assert {name: row[name] for name in starts} == {name: "'" + value for name, value in starts.items()}
    assert row["entry"] == expected_entry(recorded.row).decode("utf-8")
    (line,) = content_of(regulator.get(LIST, {"format": "jsonl"})).splitlines()
    assert {name: json.loads(line)[name] for name in starts} == starts


def test_a_bad_filter_on_an_export_is_a_json_400(regulator, decisions):
    response = regulator.get(LIST, {"format": "csv", "since": "today"})
    assert response["Content-Type"] == "application/json"
    error_of(response, 400, "invalid_request")


def test_json_pages_whatever_the_accept_header(regulator, decisions):
    response = regulator.get(LIST, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


# Integrity -----------------------------------------------------------------------------------


def tree_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1's MTH, written out again."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + tree_root(leaves[:split]) + tree_root(leaves[split:])).digest()


def leaves_in_order() -> list[bytes]:
    return [
        hashlib.sha256(b"\x00" + bytes(body)).digest()
        for body in LogEntry.objects.order_by("seq").values_list("body", flat=True)
    ]


def test_integrity_of_a_log_with_nothing_placed_yet(world, regulator):
    assert LogEntry.objects.filter(seq__isnull=True).exists()  # the world's changes, waiting
    assert regulator.get(INTEGRITY).json() == {
        "intact": True,
        "size": 0,
        "root": b64(hashlib.sha256(b"").digest()),
        "first_bad_seq": None,
    }


def test_integrity_intact_then_broken_by_a_tampered_row(regulator, decisions):
    integrate_all()
    leaves = leaves_in_order()
    response = regulator.get(INTEGRITY)
    assert response.status_code == 200
    assert response.json() == {
        "intact": True,
        "size": len(leaves),
        "root": b64(tree_root(leaves)),
        "first_bad_seq": None,
    }
    bad = LogEntry.objects.get(id=decisions["kz_in_cn"].id).seq
    stored_id = Verification._meta.pk.get_db_prep_value(decisions["kz_in_cn"].id, connection)
    tamper("UPDATE recognition_verification SET decision = %s WHERE id = %s", ["accepted", stored_id])
    # What verified: the leaves before the first bad one.
    assert regulator.get(INTEGRITY).json() == {
        "intact": False,
        "size": bad,
        "root": b64(tree_root(leaves[:bad])),
        "first_bad_seq": bad,
    }
    # The API shows the row as it now stands, beside the entry that says otherwise.
    row = next(row for row in all_rows(regulator, {}) if row["id"] == str(decisions["kz_in_cn"].id))
    assert (row["decision"], json.loads(row["entry"])["decision"]) == ("accepted", "rejected")
    error_of(regulator.get(INTEGRITY, {"full": "1"}), 400, "invalid_request")


# Who may read --------------------------------------------------------------------------------

ENDPOINTS = [LIST, LIST + "?format=csv", LIST + "?format=jsonl", INTEGRITY]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_gets_401(world, path):
    response = APIClient().get(path)
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_wrong_key_gets_401(world, regulator_key, path):
    prefix, _, secret = regulator_key.partition(".")
    other = "y" if secret.endswith("x") else "x"  # a last character that differs: 1 key in 62 ends in x
    for key in (f"{prefix}.{secret[:-1]}{other}", "nope.wrong", regulator_key + "x"):
        error_of(keyed(key).get(path), 401, "authentication_failed")


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
