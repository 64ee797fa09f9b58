"""The shipped benchmark (bench/): its verdicts, its yardstick views
(routed by bench settings only), its data set, and a short run end to end."""

import json
import time

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.services import api_key_create
from bench import dataset
from bench.stats import verdict
from bench.tests.runs import run_benchmark
from bench.views import HelloApi, VerificationWithoutAuditApi
from recognition.api.verifications import VerificationCreateApi
from recognition.models import Verification


def test_verdicts_pass_fail_noisy_and_not_run():
    assert verdict("r", "sqlite", "HTTP", [0.80, 0.81, 0.79], at_least=0.7).status == "PASS"
    assert verdict("r", "sqlite", "HTTP", [0.60, 0.61, 0.59], at_least=0.7).status == "FAIL"
    assert verdict("r", "sqlite", "HTTP", [1.0, 1.1, 1.2], at_most=1.4).status == "PASS"
    assert verdict("r", "sqlite", "HTTP", [0.5, 1.0, 1.5, 2.0], at_most=3).status == "NOISY"
    assert verdict("r", "sqlite", "HTTP", None, at_most=3).status == "not run"


def test_the_yardsticks_are_routed_only_by_the_benchmark_settings():
    with pytest.raises(Resolver404):
        resolve("/bench/hello/")
    with override_settings(ROOT_URLCONF="bench.urls"):
        assert resolve("/bench/hello/").func.view_class is HelloApi
        assert resolve("/bench/verifications/").func.view_class is VerificationWithoutAuditApi
        assert resolve("/api/v1/verifications/").func.view_class is VerificationCreateApi


def test_hello_runs_what_a_verification_runs_around_the_view():
    for name in ("authentication_classes", "permission_classes", "throttle_classes", "parser_classes"):
        assert getattr(HelloApi, name) == getattr(VerificationCreateApi, name), name
    assert HelloApi.renderer_classes == VerificationCreateApi.renderer_classes
    assert HelloApi.content_negotiation_class is VerificationCreateApi.content_negotiation_class


@pytest.fixture
def bench_registry(db):
    """The benchmark's registry with 200 merchants, in the test database."""
    now = int(time.time())
    authorities = dataset.make_authorities()
    from django.utils import timezone

    at = timezone.now().replace(microsecond=0)
    dataset.create_registry(authorities, now=at)
    dataset.add_merchants(200, now=at)
    return authorities, dataset.tokens(authorities, 200, 20, now=now, seed=1)


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_data_set_tokens_are_accepted_and_the_tampered_one_is_not(bench_registry, client):
    _, tokens = bench_registry
    key = api_key_create(name="bench-test", role="platform")[1]
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}", "content_type": "application/json"}
    for token in tokens:
        answer = client.post("/api/v1/verifications/", token.body(), **headers).json()
        assert (answer["decision"], answer["reasons"]) == ("accepted", [])
    answer = client.post("/api/v1/verifications/", dataset.tampered(tokens[0]).body(), **headers).json()
    assert [reason["code"] for reason in answer["reasons"]] == ["invalid_signature"]

    rows = Verification.objects.count()
    answer = client.post("/bench/verifications/", tokens[1].body(), **headers).json()
    assert answer["decision"] == "accepted" and Verification.objects.count() == rows
    assert client.post("/bench/hello/", tokens[1].body(), **headers).json() == {"hello": "world"}


@pytest.mark.slow
def test_a_short_run_prints_every_ratio_with_its_target(tmp_path):
    results = tmp_path / "results.json"
    sizes = ("--merchants", "2000", "--log-entries", "3000", "--small-log-entries", "300", "--backlog", "2000")
    sizes += ("--status-entries", "2000")  # the million-credential list takes 40 s; its code is the same
    done = run_benchmark(
        "bench.run", "--databases", "sqlite", *sizes, "--rounds", "2", "--seconds", "0.02", "--json", str(results)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for title in (
        "verify / hello throughput",
        "verify+audit / hello throughput",
        "trust-list 304 / hello throughput",
        "token verification / raw signature verify",
        "batch of 100: server CPU a token / raw verify",
        "p99 / p50 verify+audit, 16 connections",
        "p50 1,000,000 / 1,000 merchants (verify+audit)",
        "inclusion proof, 1,000,000 / 1,000 log entries",
        "integrator: leaves placed a second (absolute)",
        "integration lag p99 / AUDIT_CHECKPOINT_SECONDS",
        "append 16 / 1 writers: the log's / the chain's",
        "verify+audit throughput, with witnesses / without",
    ):
        assert title in done.stdout
    assert done.stdout.count("Environment: ") == 1
    saved = json.loads(results.read_text())
    assert {gate["gate"] for gate in saved["gates"] if not gate["passed"]} == set()
    assert "a revocation is in the next list served" in {gate["gate"] for gate in saved["gates"]}
    assert {item["status"] for item in saved["verdicts"]} <= {"PASS", "FAIL", "NOISY", "not run"}
    measured = {item["name"] for item in saved["verdicts"] if item["value"] is not None}
    assert {
        "inclusion proof, 1,000,000 / 1,000 log entries",
        "integrator: leaves placed a second (absolute)",
    } <= measured
    engine = saved["engines"]["sqlite"]
    assert engine["integrator"]["placed"] == engine["integrator"]["backlog"] == 2000
    assert engine["gates"]["scale"]["log_size"] >= 3000


def proof_of(client, key: str, entry_id: str) -> dict:
    answer = client.get(f"/api/v1/audit/log/entries/{entry_id}/proof", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_loaded_log_is_placed_signed_and_proves_its_entries(bench_registry, client):
    from bench.worker import proof_holds
    from recognition.log.integrity import check_log
    from recognition.models import Checkpoint, LogEntry

    authorities, _ = bench_registry
    dataset.load_log(300, authorities=authorities, merchants=200, now=timezone.now(), integrated=True, chunk=128)

    report = check_log()
    assert (report.intact, report.size) == (True, 300)
    assert Checkpoint.objects.order_by("-size").first().size == 300
    key = api_key_create(name=dataset.LOG_CLIENT, role="platform")[1]
    for entry in LogEntry.objects.filter(seq__in=[0, 127, 128, 299]):
        assert proof_holds(proof_of(client, key, str(entry.id)))
    assert Verification.objects.count() == 300


def test_a_backlog_is_left_pending_for_the_integrator(bench_registry):
    from recognition.log.integrator import integrate_all
    from recognition.log.integrity import check_log
    from recognition.models import LogEntry

    authorities, _ = bench_registry
    dataset.load_log(50, authorities=authorities, merchants=200, now=timezone.now(), integrated=True)
    dataset.load_log(120, authorities=authorities, merchants=200, now=timezone.now(), integrated=False)

    assert LogEntry.objects.filter(seq__isnull=True).count() == 120
    assert integrate_all().placed == 120
    report = check_log()
    assert (report.intact, report.size) == (True, 170)


def test_the_chain_baseline_appends_a_gap_free_chain_beside_the_log(bench_registry):
    from django.db import connection

    from bench import append
    from recognition.models import LogEntry

    if connection.vendor != "postgresql":
        pytest.skip("the baseline is PostgreSQL's advisory lock (set DATABASE_URL to a postgres:// URL)")

    append.create_chain_table()
    for n in range(3):
        append.chain_append(append.realistic_entry(n))
    append.log_append(append.realistic_entry(3))

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, prev_hash, hash FROM {append.CHAIN_TABLE} ORDER BY seq")  # noqa: S608
        rows = cursor.fetchall()
    assert [row[0] for row in rows] == [1, 2, 3]
    assert [row[1] for row in rows] == [append.GENESIS, rows[0][2], rows[1][2]]
    assert LogEntry.objects.filter(kind="decision", seq__isnull=True).count() == 1


def test_append_scaling_is_summarized_as_ratios_with_what_limits_it(capsys):
    from bench import append, report

    def measure(rate: float) -> dict:
        return {
            "entries_per_s": rate, "entries": int(rate), "seconds": 1.0, "cpu_us_per_entry": 500.0,
            "db_cpu_us_per_entry": 300.0, "wal_syncs_per_s": 400.0, "wal_writes_per_s": 400.0,
            "commits_per_s": rate, "commits_per_sync": 2.0, "machine_busy": 0.99, "errors": [],
        }  # fmt: skip

    rounds = [{"log:1": measure(500), "log:16": measure(1500), "chain:1": measure(400), "chain:16": measure(480)}]
    result = {"writers": [1, 16], "seconds": 1.0, "cpus": 2, "rounds": rounds}

    assert append.summary(result)["log:ratio"] == [3.0]
    assert append.summary(result)["chain:ratio"] == [1.2]
    report.show_append("postgresql", result)
    shown = capsys.readouterr().out
    assert "log: 16 / 1 writers = 3.00" in shown and "chain: 16 / 1 writers = 1.20" in shown
    assert "What limits the log at 16 writers: CPU" in shown


def test_the_fault_run_splits_the_integration_lag_at_the_outage():
    import argparse
    from datetime import UTC, datetime, timedelta

    from bench import fault

    now = time.time()
    outage = fault.Outage(began=time.monotonic() - 20, ended=time.monotonic() - 10)
    at = datetime.fromtimestamp(now, tz=UTC)

    def logged(seconds_ago: float, lag: float) -> fault.Logged:
        created = at - timedelta(seconds=seconds_ago)
        return fault.Logged("id", 0, "", "", created, created + timedelta(seconds=lag))

    entries = [logged(30, 12.0), logged(15, 6.0), logged(5, 0.5), logged(4, 3.5)]
    found = fault.Findings()
    fault.check_lag(entries, outage, 0.0, argparse.Namespace(grace=1.0, checkpoint_seconds=1.0), found)

    before, during, after = found.figures["integration_lag"]
    assert before.startswith("before the outage: 1 decisions") and "max 12.00 s" in before
    assert during.startswith("during the outage: 1 decisions")
    assert after.startswith("after the outage: 2 decisions")
    assert found.violations == ["integration lag after the outage: p99 3.50 s > 2 x AUDIT_CHECKPOINT_SECONDS"]


def test_the_witnesses_vkey_is_found_in_what_the_witness_prints():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from bench.witnesses import VKEY
    from recognition.log.notes import COSIGNATURE_V1, ED25519, vkey

    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    witness_vkey = vkey("witness.example/cn", public, COSIGNATURE_V1)
    assert VKEY.search(f"witness vkey: {witness_vkey}\n").group(0) == witness_vkey
    assert VKEY.search(vkey("registry.example", public, ED25519)) is None  # a log's key is not a witness's


def test_the_witnessed_run_is_a_ratio_and_a_gate():
    from argparse import Namespace

    from bench import report

    def run(rps: float) -> dict:
        errors = dict.fromkeys(("bad", "connect", "read", "write", "timeout", "logged_other"), 0)
        return {"rps": rps, "p50_us": 1.0, "p99_us": 2.0, "audit_rows": 0, "logged_2xx": 0, **errors}

    rounds = [
        {"small:hello": run(1000), "small:verify": run(800), "small:verify+audit": run(600)}
        | {"witnessed:verify+audit": run(600 * share)}
        for share in (0.97, 1.01, 0.99)
    ]
    engine = {
        "in_process": {"rounds": []},
        "merchants": {"small": 1000},
        "http": {"rounds": rounds, "witnesses": {"count": 2, "status": 200, "size": 90, "cosignatures": 2}},
        "queries": {},
        "gates": {},
    }
    engine["http"]["witnesses"]["decision_entries"] = 100  # more decisions than the cosigned size covers
    results = {"engines": {"postgresql": engine}}
    verdict = next(
        item
        for item in report.verdicts(results, Namespace(http=True))
        if item.name == "verify+audit throughput, with witnesses / without"
    )
    assert verdict.status == "PASS" and round(verdict.value, 2) == 0.99
    gate = next(gate for gate in report.gates(results, Namespace()) if gate["data set"] == "witnessed")
    assert not gate["passed"] and "size 90" in gate["detail"]


def test_the_trust_list_304_run_is_a_ratio_to_hello_and_its_answers_must_be_304():
    from argparse import Namespace

    from bench import report

    def run(rps: float, other: int = 0) -> dict:
        errors = dict.fromkeys(("bad", "connect", "read", "write", "timeout"), 0)
        return {
            "rps": rps,
            "p50_us": 1.0,
            "p99_us": 2.0,
            "audit_rows": 0,
            "logged_2xx": 0,
            "logged_other": other,
            **errors,
        }

    rounds = [
        {"small:hello": run(1000), "small:verify": run(800), "small:verify+audit": run(600)}
        | {"small:trust-list-304": run(1000 * share)}
        for share in (1.3, 1.2, 1.25)
    ]
    engine = {"in_process": {"rounds": []}, "merchants": {"small": 1000}, "http": {"rounds": rounds}}
    results = {"engines": {"sqlite": engine | {"queries": {}, "gates": {}}}}
    verdict = next(
        item
        for item in report.verdicts(results, Namespace(http=True))
        if item.name == "trust-list 304 / hello throughput"
    )
    assert verdict.status == "PASS" and round(verdict.value, 2) == 1.25
    (gate,) = [gate for gate in report.gates(results, Namespace()) if "304" in gate["gate"]]
    assert gate["passed"] and gate["data set"] == "small:trust-list-304"

    rounds[0]["small:trust-list-304"] = run(1300, other=3)  # three answers that were not 304 (a 200: a new list)
    (gate,) = [gate for gate in report.gates(results, Namespace()) if "304" in gate["gate"]]
    assert not gate["passed"] and gate["detail"] == "3 bad"


def test_the_bench_worker_reads_the_trust_list_as_a_reader_does(bench_registry, settings, tmp_path):
    """The in-process variant: a first fetch for the ETag, then 304s with no
    body, through the WSGI handler and the whole middleware stack."""
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    from bench.worker import Worker
    from recognition.services.registry_keys import registry_key_rotate

    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    registry_key_rotate()
    _, tokens = bench_registry
    worker = Worker.__new__(Worker)
    worker.app, worker.failures, worker.etag = get_wsgi_application(), [], None
    worker.trust_list = f"/api/v1/trust-lists/{tokens[0].destination}/"
    # As Django's test client does: the handler must not close the test's
    # connection (and its transaction) at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        for i in range(3):
            worker._trust_list_304(i)
        status, content, headers = worker.get_public(worker.trust_list, HTTP_IF_NONE_MATCH=worker.etag)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert worker.failures == [] and worker.etag.startswith('"')
    assert (status, content, headers["Vary"]) == (304, b"", "Accept-Encoding")
