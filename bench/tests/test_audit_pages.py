"""The shipped audit-paging benchmark (`make bench-audit`, bench/audit_pages.py):
its log is what it says it is, and a short run on tiny logs prints every
filter's ratio with its target and finds every page right."""

import json
from collections import Counter

import pytest

from bench.tests.runs import run_benchmark
from tests.support import audit_rows


def test_the_log_mixes_values_keeps_rare_ones_counted_and_time_in_seq_order():
    rows = list(audit_rows.generate(2_000, rare=20, seed=5))
    columns = {name: n for n, name in enumerate(audit_rows.COLUMNS)}

    def share(column: str, value: object) -> float:
        return Counter(row[columns[column]] for row in rows)[value] / len(rows)

    assert [row[columns["seq"]] for row in rows] == list(range(1, 2_001))
    assert all(a[columns["created_at"]] <= b[columns["created_at"]] for a, b in zip(rows, rows[1:], strict=False))
    assert len({row[columns["created_at"]] for row in rows}) < len(rows)  # batches share an instant
    assert 0.15 < share("destination", audit_rows.COMMON_DESTINATION) < 0.25
    assert 0.10 < share("issuer", audit_rows.COMMON_ISSUER) < 0.16
    assert 0.75 < share("decision", "accepted") < 0.85
    assert len({row[columns["origin"]] for row in rows}) > 40
    assert share("origin", audit_rows.RARE_ORIGIN) == 20 / 2_000
    reasons = Counter(code for row in rows for code in row[columns["reasons"]])
    assert reasons[audit_rows.RARE_REASON] == 20 and reasons[audit_rows.ABSENT_REASON] == 0
    assert 0.08 < reasons[audit_rows.COMMON_REASON] / len(rows) < 0.16
    assert all(bool(row[columns["reasons"]]) == (row[columns["decision"]] == "rejected") for row in rows)


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
