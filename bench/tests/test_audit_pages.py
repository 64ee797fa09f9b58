"""The shipped audit-paging benchmark (`make bench-audit`, bench/audit_pages.py):
its log is what it says it is, and a short run on tiny logs prints every
filter's ratio with its target and finds every page right."""

import json
import uuid
from collections import Counter

import pytest

from bench.tests.runs import run_benchmark
from recognition.models import Verification
from tests.support import audit_rows
from tests.support.audit import expected_entry, leaf_hash


def test_the_log_mixes_values_keeps_rare_ones_counted_and_goes_in_time_order():
    rows = list(audit_rows.generate(2_000, rare=20, seed=5))
    columns = {name: n for n, name in enumerate(audit_rows.COLUMNS)}

    def share(column: str, value: object) -> float:
        return Counter(row[columns[column]] for row in rows)[value] / len(rows)

    def key(row: tuple) -> tuple:
        return row[columns["created_at"]], uuid.UUID(row[columns["id"]])

    # The log's time order, (created_at, id), over six months; batches share an instant.
    assert all(key(a) < key(b) for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0][columns["created_at"]] == audit_rows.START
    assert audit_rows.SPAN * 0.99 < rows[-1][columns["created_at"]] - audit_rows.START < audit_rows.SPAN
    assert len({row[columns["created_at"]] for row in rows}) < len(rows)
    # Leaf indices in that order, but for the newest rows, still waiting for the integrator.
    assert [row[columns["seq"]] for row in rows] == [*range(1_998), None, None]
    assert 0.15 < share("destination", audit_rows.COMMON_DESTINATION) < 0.25
    assert 0.10 < share("issuer", audit_rows.COMMON_ISSUER) < 0.16
    assert 0.75 < share("decision", "accepted") < 0.85
    assert len({row[columns["origin"]] for row in rows}) > 40
    reasons = Counter(code for row in rows for code in row[columns["reasons"]])
    assert reasons[audit_rows.ABSENT_REASON] == 0
    assert 0.08 < reasons[audit_rows.COMMON_REASON] / len(rows) < 0.16
    assert all(bool(row[columns["reasons"]]) == (row[columns["decision"]] == "rejected") for row in rows)
    # The rare values on exactly `rare` rows, one in each twentieth of the log.
    rare_origin = [n for n, row in enumerate(rows) if row[columns["origin"]] == audit_rows.RARE_ORIGIN]
    rare_reason = [n for n, row in enumerate(rows) if audit_rows.RARE_REASON in row[columns["reasons"]]]
    for found in (rare_origin, rare_reason):
        assert [n // 100 for n in found] == list(range(20))
    assert {rows[n][columns["destination"]] for n in rare_origin} == {audit_rows.RARE_DESTINATION}


def test_the_same_rare_rows_at_every_size():
    for rows in (1_000, 10_000):
        generated = list(audit_rows.generate(rows, rare=100, seed=5))
        origin = audit_rows.COLUMNS.index("origin")
        assert sum(row[origin] == audit_rows.RARE_ORIGIN for row in generated) == 100
        assert len(generated) == rows


def test_each_entry_holds_its_decision_in_the_bytes_design_6_describes():
    for row in audit_rows.generate(300, rare=10, seed=5):
        id, kind, created_at, body, leaf, seq = audit_rows.entry_of(row)
        fields = dict(zip(audit_rows.COLUMNS, row, strict=True))
        decision = Verification(**{name: fields[name] for name in audit_rows.DECISION_COLUMNS[1:]})
        decision.id = uuid.UUID(fields["id"])
        assert (id, kind, created_at, seq) == (fields["id"], "decision", fields["created_at"], fields["seq"])
        assert body == expected_entry(decision)
        assert leaf == leaf_hash(body)


def test_every_filter_is_timed_alone_and_combined():
    cases = audit_rows.cases(1_000, 100)
    alone = {name for query in cases.values() if len(query) == 1 for name in query}
    assert alone == {"destination", "origin", "issuer", "decision", "reason", "since", "until"}
    assert {} in cases.values() and any(len(query) >= 3 for query in cases.values())


@pytest.mark.slow
def test_a_short_run_prints_every_ratio_with_its_target_and_every_page_right(tmp_path):
    results = tmp_path / "results.json"
    arguments = ("--databases", "sqlite", "--rows", "2000", "--small-rows", "200", "--rounds", "1", "--repeat", "1")
    done = run_benchmark("bench.audit_pages", *arguments, "--json", str(results))
    assert done.returncode == 0, done.stderr[-2000:]
    saved = json.loads(results.read_text())
    cases = saved["engines"]["sqlite"]["cases"]
    assert len(saved["verdicts"]) == 3 * len(cases)
    for case in cases:
        assert case in done.stdout
    assert {item["status"] for item in saved["verdicts"]} <= {"PASS", "FAIL", "NOISY", "no target"}
    assert {item["target"] for item in saved["verdicts"]} == {"<= 2", "-"}
    failures = saved["engines"]["sqlite"]["failures"]
    assert [failures[size]["failure_count"] for size in ("small", "scale")] == [0, 0], failures
    assert "every page a 200 with the rows a plain query finds: PASS" in done.stdout
