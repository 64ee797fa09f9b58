"""The shipped benchmark (bench/): its verdicts, its yardstick views
(routed by bench settings only), its data set, and a short run end to end."""

import json
import time

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve

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
    done = run_benchmark(
        "bench.run", "--databases", "sqlite", "--no-scale", "--rounds", "2", "--seconds", "0.02", "--json", str(results)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for title in (
        "verify / hello throughput",
        "verify+audit / hello throughput",
        "token verification / raw signature verify",
        "batch of 100: server CPU a token / raw verify",
        "p99 / p50 verify+audit, 16 connections",
        "p50 1,000,000 / 1,000 merchants (verify+audit)",
    ):
        assert title in done.stdout
    assert done.stdout.count("Environment: ") == 1
    saved = json.loads(results.read_text())
    assert {gate["gate"] for gate in saved["gates"] if not gate["passed"]} == set()
    assert {item["status"] for item in saved["verdicts"]} <= {"PASS", "FAIL", "NOISY", "not run"}
