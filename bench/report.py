"""What `make bench` prints: one environment line, the absolute figures
(informational), the ratios with their targets and verdicts, the gates, and
what each measure means."""

import argparse
import os
import platform
import statistics
from importlib import metadata
from typing import Any

from bench import dataset, http, status_lists
from bench.stats import NOISY_SPREAD, Summary, Verdict, verdict

DEFINITIONS = """\
What is measured
  hello          DRF view of bench settings only: the same middleware, API-key authentication, permission,
                 throttle, parser, renderer and negotiation as the verification endpoint; answers {{"hello": "world"}}.
  verify         bench-only view: the real endpoint's path (request validation, one parse of the token, the
                 registry read, signature, decision, the log entry's bytes and leaf hash, the answer) minus
                 the recording: no INSERT, no commit, no wait for the disk, no receipt signature.
  verify+audit   the real endpoint, POST /api/v1/verifications/: everything above, the log entry and its
                 decision row written in one statement, committed and on disk, and the receipt signed
                 (Ed25519) before the answer. No log lock, no head read: the integrator places it later.
  token          in-process token verification: parse, look-up in the registry snapshot, signature, claims
                 and every policy check (merchant_verifier.tokens, recognition.snapshots, merchant_verifier.decide);
                 the merchant row is read beforehand (the endpoints read it, one query a request).
  package        the verifier package platforms install (merchant_verifier.Verifier), offline, its lists read
                 and decoded beforehand from a directory of the registry's own lists (bench/offline.py): parse,
                 look-ups in the decoded lists, signature, every policy check, the Answer with its decision and
                 reasons (read: accepted). Its members presenting the parties (issuer, merchant, credential,
                 agreement) are built when first read, which a platform reading only the decision never does.
  raw verify     cryptography's Ed25519PublicKey.verify of the same tokens (key object built beforehand).
  jwt.decode     PyJWT's jwt.decode of the same tokens with the same key object (signature, exp, nbf, iat).
  batch          POST /api/v1/verifications/batch/ with 100 tokens; server CPU a token = on-CPU time of the
                 server process plus its PostgreSQL backend (from /proc), divided by 100.
  trust-list 304 GET /api/v1/trust-lists/{{country}}/ of a country the tokens are presented in, with the ETag of
                 the list fetched before (If-None-Match), no API key: every answer must be a 304 with no body,
                 from every server process (the signed list is kept in its state row and in each process's
                 memory; the 304 reads the registry stamp, one query). The public read platforms and verifiers
                 repeat most; its ratio is taken against hello, which runs the verification API's framework.
Every round runs every measure once, in a shuffled order; a ratio is taken inside each round, and the
table gives its median over the rounds and its spread (interquartile range / median). NOISY: spread over
{noisy:.0%}. Throughput in-process is 1 / median latency of one request at a time; over HTTP it is wrk's count
of answers a second at {connections} connections, with gunicorn's sync workers.
"""

HAND_WRITTEN = {
    "request validation": (
        "recognition/api/serializers.py: the common well-formed body (a string token, known country codes, no "
        "other member) is recognized without building the DRF fields; anything else goes to the fields, which "
        "word the 400. Same validated data as the fields on the same inputs "
        "(tests/recognition/test_api_serializers.py)."
    ),
    "token parsing": (
        "merchant_verifier/tokens.py: base64url by binascii's strict mode and a table of canonical last "
        "characters, one JSON decoder, the U+0000/surrogate walk only when a \\u escape exists. Same results "
        "and messages as the straightforward parser (tests/support/reference.py) and the same claims as PyJWT: "
        "tests/identity/jose/test_tokens_reference.py, every hostile case included."
    ),
    "merchant and credential look-up": (
        "recognition/snapshots.py: one SQL query for every token of a request, which also reads "
        "the registry stamp, instead of an ORM query a token; on PostgreSQL prepared once per connection "
        "(planning it cost five times running it). Same rows as the ORM on the same inputs "
        "(tests/recognition/test_snapshots.py)."
    ),
    "log entry and row INSERT, a decision of a batch of 100": (
        "recognition/db.py insert_together: the log entries and the decision rows of a request in one "
        "statement on PostgreSQL (the first INSERT a common table expression of the second, planned once per "
        "connection; in autocommit its own transaction), one INSERT a table on SQLite, each value prepared by "
        "its own field; instead of bulk_create of each model (a round trip and Django's per-object work each): "
        "the same stored rows."
    ),
    "receipt (JWS, EdDSA)": (
        "recognition/log/receipts.py: the compact JWS built by hand, its header encoded once per key, instead "
        "of PyJWT's jwt.encode; the Ed25519 signature (cryptography) is the same call and most of the cost. "
        "Tests decode every receipt with PyJWT (tests/support/audit.py check_receipt)."
    ),
    "throttle history of 6,000 requests": (
        "accounts/throttling.py: SimpleRateThrottle's decision with the history as an array of floats; "
        "same decisions on the same requests (tests/accounts/test_throttling.py)."
    ),
}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def environment(results: dict[str, Any], args: argparse.Namespace) -> str:
    from cryptography.hazmat.backends.openssl.backend import backend

    databases = [
        engine_result.get("version", f"{engine} skipped") for engine, engine_result in results["engines"].items()
    ]
    parts = [
        f"{platform.node()}: {cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}",
        f"Python {platform.python_version()}",
        f"Django {_version('django')}",
        f"DRF {_version('djangorestframework')}",
        f"cryptography {_version('cryptography')} ({backend.openssl_version_text()})",
        f"PyJWT {_version('pyjwt')}",
        *databases,
    ]
    if args.http:
        parts += [f"gunicorn {_version('gunicorn')} ({args.workers} sync workers)", http.wrk_version()]
    return "; ".join(parts) + "; EdDSA (Ed25519) credentials"


def _rounds(engine: dict[str, Any], worker: str, variant: str, field: str = "median_us") -> list[float]:
    return [round_[worker][variant][field] for round_ in engine["in_process"]["rounds"] if worker in round_]


def _proofs(engine: dict[str, Any], worker: str) -> list[float]:
    return [round_[worker]["median_us"] for round_ in engine.get("proofs", {}).get("rounds", []) if worker in round_]


def _http(engine: dict[str, Any], run: str, field: str) -> list[float]:
    return [round_[run][field] for round_ in engine.get("http", {}).get("rounds", []) if run in round_]


def _paired(engine: dict[str, Any], top: str, bottom: str, field: str) -> list[float]:
    """top / bottom inside each HTTP round that ran both."""
    rounds = engine.get("http", {}).get("rounds", [])
    return [r[top][field] / r[bottom][field] for r in rounds if top in r and bottom in r and r[bottom][field]]


def _ratio(top: list[float], bottom: list[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True) if b]


def verdicts(results: dict[str, Any], args: argparse.Namespace) -> list[Verdict]:
    found = []
    for name, engine in results["engines"].items():
        if "in_process" not in engine:
            for title, target in TARGETS:
                found.append(verdict(title, name, target["mode"], None, **target["bound"], note=engine.get("skipped")))
            continue
        raw = _rounds(engine, "small", "raw")
        in_process = {
            "token verification / raw signature verify": _ratio(_rounds(engine, "small", "token"), raw),
            "offline verification with the package per token / raw signature verify": _ratio(
                _rounds(engine, "small", "package"), raw
            ),
            "batch of 100: server CPU a token / raw verify": _ratio(
                _rounds(engine, "small", "batch", "cpu_per_token_us"), raw
            ),
            "p50 1,000,000 / 1,000 merchants (verify+audit)": _ratio(
                _rounds(engine, "scale", "verify+audit"), _rounds(engine, "small", "verify+audit")
            )
            if "scale" in engine["merchants"]
            else None,
            "inclusion proof, 1,000,000 / 1,000 log entries": _ratio(_proofs(engine, "scale"), _proofs(engine, "small"))
            if "scale" in engine["merchants"]
            else None,
            "integrator: leaves placed a second (absolute)": [engine["integrator"]["leaves_per_s"]]
            if "integrator" in engine
            else None,
        }
        append = engine.get("append", {})
        direct = {}
        if "rounds" in append:
            first, last = append["writers"][0], append["writers"][-1]
            direct["append 16 / 1 writers: the log's / the chain's"] = [
                (r[f"log:{last}"]["entries_per_s"] / r[f"log:{first}"]["entries_per_s"])
                / (r[f"chain:{last}"]["entries_per_s"] / r[f"chain:{first}"]["entries_per_s"])
                for r in append["rounds"]
                if r[f"log:{first}"]["entries_per_s"]
                and r[f"chain:{first}"]["entries_per_s"]
                and r[f"chain:{last}"]["entries_per_s"]
            ]
        over_http = {}
        if "http" in engine:
            hello = _http(engine, "small:hello", "rps")
            over_http = {
                "verify / hello throughput": _ratio(_http(engine, "small:verify", "rps"), hello),
                "verify+audit / hello throughput": _ratio(_http(engine, "small:verify+audit", "rps"), hello),
                "trust-list 304 / hello throughput": _paired(engine, "small:trust-list-304", "small:hello", "rps"),
                "p99 / p50 verify+audit, 16 connections": _ratio(
                    _http(engine, "small:verify+audit", "p99_us"), _http(engine, "small:verify+audit", "p50_us")
                ),
                "p50 1,000,000 / 1,000 merchants (verify+audit)": _ratio(
                    _http(engine, "scale:verify+audit", "p50_us"), _http(engine, "small:verify+audit", "p50_us")
                )
                if "scale" in engine["merchants"]
                else None,
            }
            if "witnesses" in engine["http"]:
                over_http["verify+audit throughput, with witnesses / without"] = _ratio(
                    _http(engine, "witnessed:verify+audit", "rps"), _http(engine, "small:verify+audit", "rps")
                )
            lag = engine["http"].get("lag", {})
            if lag.get("entries"):
                over_http["integration lag p99 / AUDIT_CHECKPOINT_SECONDS"] = [lag["p99_s"] / CHECKPOINT_SECONDS]
        for title, target in TARGETS:
            values = {"in-process": in_process, "HTTP": over_http, "direct": direct}[target["mode"]].get(title)
            note = ""
            if target["mode"] == "HTTP" and "http" not in engine:
                note = getattr(args, "http_skipped", "run with --http (make bench-http)")
            elif values is None and ("merchants" in title or "log entries" in title):
                note = "run without --no-scale"
            elif target["mode"] == "direct" and values is None:
                note = append.get("skipped", "PostgreSQL only" if name != "postgresql" else "--append-rounds 0")
            found.append(verdict(title, name, target["mode"], values, **target["bound"], note=note))
    return found


TARGETS = [
    ("verify / hello throughput", {"mode": "HTTP", "bound": {"at_least": 0.70}}),
    ("verify+audit / hello throughput", {"mode": "HTTP", "bound": {"at_least": 0.50}}),
    # A conditional GET of an unchanged list answers from memory after one small query.
    ("trust-list 304 / hello throughput", {"mode": "HTTP", "bound": {"at_least": 1.0}}),
    ("token verification / raw signature verify", {"mode": "in-process", "bound": {"at_most": 1.4}}),
    (
        "offline verification with the package per token / raw signature verify",
        {"mode": "in-process", "bound": {"at_most": 1.3}},
    ),
    ("batch of 100: server CPU a token / raw verify", {"mode": "in-process", "bound": {"at_most": 2.2}}),
    ("p99 / p50 verify+audit, 16 connections", {"mode": "HTTP", "bound": {"at_most": 3.0}}),
    ("p50 1,000,000 / 1,000 merchants (verify+audit)", {"mode": "in-process", "bound": {"at_most": 1.1}}),
    ("p50 1,000,000 / 1,000 merchants (verify+audit)", {"mode": "HTTP", "bound": {"at_most": 1.1}}),
    ("inclusion proof, 1,000,000 / 1,000 log entries", {"mode": "in-process", "bound": {"at_most": 2.0}}),
    ("integrator: leaves placed a second (absolute)", {"mode": "in-process", "bound": {"at_least": 20_000}}),
    ("integration lag p99 / AUDIT_CHECKPOINT_SECONDS", {"mode": "HTTP", "bound": {"at_most": 2.0}}),
    ("append 16 / 1 writers: the log's / the chain's", {"mode": "direct", "bound": {"at_least": 1.25}}),
    # Pushing checkpoints to witnesses happens off the request path: unchanged within noise.
    ("verify+audit throughput, with witnesses / without", {"mode": "HTTP", "bound": {"at_least": 0.90}}),
]
CHECKPOINT_SECONDS = 1.0  # bench.run sets AUDIT_CHECKPOINT_SECONDS for the servers


def gates(results: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    found = []
    for name, engine in results["engines"].items():
        if "gates" not in engine:
            continue
        for worker, gate in engine["gates"].items():
            found.append(
                _gate(
                    name,
                    worker,
                    "every in-process answer 2xx, accepted, decision entries = answers",
                    gate["failure_count"] == 0,
                    "; ".join(gate["failures"][:3]),
                )
            )
            found.append(
                _gate(
                    name,
                    worker,
                    "tampered token rejected (invalid_signature) and recorded",
                    gate["tampered_rejected"],
                    str(gate["tampered_codes"]),
                )
            )
            placed = (
                gate["log_intact"]
                and gate["pending"] == 0
                and gate["log_size"] == gate["log_entries"]
                and gate["decision_entries"] == gate["decision_rows"]
            )
            found.append(
                _gate(
                    name,
                    worker,
                    "log intact once everything is integrated (check_log), every entry placed once",
                    placed,
                    f"{gate['log_size']:,} leaves, {gate['log_entries']:,} entries, {gate['pending']} pending, "
                    f"{gate['decision_entries']:,} decisions / {gate['decision_rows']:,} rows {gate['log_problem']}",
                )
            )
        queries = engine["queries"]
        constant = len({tuple(sorted(counts.items())) for counts in queries.values()}) == 1
        shown = ", ".join(
            f"{size}: {counts['single']} a verification, {counts['batch_of_100']} a batch of 100"
            for size, counts in queries.items()
        )
        found.append(_gate(name, "all", "queries a verification constant across data sets", constant, shown))
        found += status_lists.gates(name, engine.get("status_lists"))
        witnessed = engine.get("http", {}).get("witnesses")
        if witnessed:
            cosigned = (
                witnessed["cosignatures"] >= witnessed["count"] and witnessed["size"] >= witnessed["decision_entries"]
            )
            found.append(
                _gate(
                    name,
                    "witnessed",
                    f"served checkpoint cosigned by the {witnessed['count']} witnesses, covering every decision",
                    cosigned,
                    f"status {witnessed['status']}, size {witnessed['size']:,}, {witnessed['cosignatures']} "
                    f"cosignatures, {witnessed['decision_entries']:,} decisions",
                )
            )
        for run_name, runs in _http_runs(engine):
            bad = sum(
                run["bad"] + run["connect"] + run["read"] + run["write"] + run["timeout"] + run["logged_other"]
                for run in runs
            )
            expected = "304" if run_name.endswith("trust-list-304") else "2xx"
            found.append(
                _gate(name, run_name, f"every HTTP answer {expected}, no socket error", bad == 0, f"{bad} bad")
            )
            if run_name.endswith("verify+audit"):
                off = [(run["audit_rows"], run["logged_2xx"]) for run in runs if run["audit_rows"] != run["logged_2xx"]]
                found.append(
                    _gate(name, run_name, "decision entries = answers (gunicorn access log)", not off, str(off[:3]))
                )
            elif run_name.endswith(("hello", "verify", "trust-list-304")):
                written = sum(run["audit_rows"] for run in runs)
                found.append(_gate(name, run_name, "no log entry written", written == 0, f"{written} entries"))
    return found


def _http_runs(engine: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    rounds = engine.get("http", {}).get("rounds", [])
    names = sorted({run for round_ in rounds for run in round_})
    return [(run, [round_[run] for round_ in rounds if run in round_]) for run in names]


def _gate(database: str, worker: str, name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"database": database, "data set": worker, "gate": name, "passed": bool(passed), "detail": detail}


# Printing -----------------------------------------------------------------------------------


def _shown(verdict: Verdict) -> str:
    """Two decimals, three when two would print the target itself."""
    if verdict.value is None:
        return "-"
    bound = float(verdict.target.split()[-1])
    return f"{verdict.value:.3f}" if f"{verdict.value:.2f}" == f"{bound:.2f}" else f"{verdict.value:.2f}"


def _us(value: float) -> str:
    return f"{value:,.0f} µs" if value >= 100 else f"{value:,.1f} µs"


def absolute_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for name, engine in results["engines"].items():
        if "in_process" not in engine:
            continue
        for worker in engine["merchants"]:
            merchants = f"{engine['merchants'][worker]:,} merchants"
            variants = {v for round_ in engine["in_process"]["rounds"] for v in round_.get(worker, {})}
            for variant in [
                "hello",
                "verify",
                "verify+audit",
                "trust-list-304",
                "token",
                "package",
                "raw",
                "jwt",
                "batch",
            ]:
                if variant not in variants:
                    continue
                summary = Summary.of(_rounds(engine, worker, variant))
                label = {
                    "raw": "raw verify",
                    "jwt": "jwt.decode",
                    "batch": "batch of 100 (latency)",
                    "trust-list-304": "trust-list 304",
                }.get(variant, variant)
                rows.append((name, "in-process", merchants, label, _us(summary.median), f"{summary.spread:.0%}"))
                if variant == "batch":
                    cpu = Summary.of(_rounds(engine, worker, "batch", "cpu_per_token_us"))
                    db = statistics.median(_rounds(engine, worker, "batch", "db_cpu_per_token_us"))
                    rows.append(
                        (
                            name,
                            "in-process",
                            merchants,
                            "batch: server CPU a token",
                            _us(cpu.median),
                            f"{cpu.spread:.0%}",
                            f"of which database {_us(db)}",
                        )
                    )
        for run, runs in _http_runs(engine):
            worker, endpoint = run.split(":")
            merchants = f"{engine['merchants'].get(worker, engine['merchants']['small']):,} merchants"
            if worker == "witnessed":
                merchants += ", witnessed"
            rps = Summary.of([r["rps"] for r in runs])
            p50 = Summary.of([r["p50_us"] for r in runs])
            p99 = Summary.of([r["p99_us"] for r in runs])
            rows.append(
                (name, "HTTP", merchants, f"{endpoint} throughput", f"{rps.median:,.0f} /s", f"{rps.spread:.0%}")
            )
            rows.append(
                (
                    name,
                    "HTTP",
                    merchants,
                    f"{endpoint} p50 / p99",
                    f"{_us(p50.median)} / {_us(p99.median)}",
                    f"{p50.spread:.0%} / {p99.spread:.0%}",
                )
            )
    return rows


def table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[i])) if i < len(row) else 0 for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(headers, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def show(
    results: dict[str, Any], found: list[Verdict], gate_list: list[dict[str, Any]], args: argparse.Namespace
) -> None:
    print(f"\nEnvironment: {results['environment']}")
    for name, engine in results["engines"].items():
        if "skipped" in engine:
            print(f"{name}: skipped: {engine['skipped']}")
            continue
        made = ", ".join(
            f"{engine['merchants'][w]:,} merchants in {t['registry_s'] + t['merchants_s']:.1f} s "
            f"(of which merchants {t['merchants_s']:.1f} s; migrations {t['migrate_s']:.1f} s)"
            for w, t in engine["generation"].items()
        )
        print(
            f"Data set, {name}: {dataset.COUNTRIES} countries, {dataset.AUTHORITIES:,} authorities, "
            f"{dataset.AUTHORITIES * dataset.AGREEMENTS_PER_AUTHORITY:,} agreements; {made}"
        )
    print("\nAbsolute figures (informational: this machine drifts by 2x from minute to minute)")
    print(table(("database", "mode", "data set", "measure", "median", "spread", ""), absolute_rows(results)))
    print(f"\nRatios (median of per-round ratios; NOISY when the spread is over {NOISY_SPREAD:.0%})")
    rows = [
        (
            v.name,
            v.database,
            v.mode,
            _shown(v),
            v.target,
            f"{v.spread:.0%}" if v.spread is not None else "-",
            v.status,
            v.note,
        )
        for v in found
    ]
    print(table(("ratio", "database", "mode", "value", "target", "spread", "verdict", ""), rows))
    show_log(results)
    for name, engine in results["engines"].items():
        if "status_lists" in engine:
            status_lists.show(name, engine["status_lists"])
    info = informational_ratios(results)
    if info:
        print("\nOther ratios (informational, no target)")
        print(table(("ratio", "database", "mode", "value", "spread"), info))
    print("\nQueries a verification (constant: a test asserts it too)")
    for name, engine in results["engines"].items():
        for worker, counts in engine.get("queries", {}).items():
            print(
                f"  {name}, {engine['merchants'][worker]:,} merchants: {counts['single']} for one verification, "
                f"{counts['batch_of_100']} for a batch of 100"
                + ("" if name == "sqlite" else " (plus Django's connection health check, once a request)")
            )
    print("\nGates")
    print(
        table(
            ("gate", "database", "data set", "result", "detail"),
            [
                (g["gate"], g["database"], g["data set"], "PASS" if g["passed"] else "FAIL", g["detail"][:90])
                for g in gate_list
            ],
        )
    )
    print("\nHand-written instead of a library call, and what it saves here (median µs, same inputs)")
    for name, engine in results["engines"].items():
        for piece, costs in engine.get("justification", {}).items():
            shown = ", ".join(
                f"{label.removesuffix('_us').replace('_', ' ')} {_us(value)}" for label, value in costs.items()
            )
            print(f"  {name}, {piece}: {shown}")
    for piece, why in HAND_WRITTEN.items():
        print(f"  - {piece}: {why}")
    print()
    print(DEFINITIONS.format(noisy=NOISY_SPREAD, connections=args.connections), end="")


def show_log(results: dict[str, Any]) -> None:
    """The log's own figures: proofs, the integrator, the integration lag,
    and append scaling with what limits it."""
    print("\nThe audit log")
    for name, engine in results["engines"].items():
        if "in_process" not in engine:
            continue
        for worker, entries in engine.get("log_entries", {}).items():
            proofs = _proofs(engine, worker)
            timing = engine["generation"][worker]
            if proofs:
                print(
                    f"  {name}: inclusion proof on a log of {entries:,} entries: {_us(statistics.median(proofs))} "
                    f"(median; log loaded in {timing.get('log_s', 0):.1f} s: generated "
                    f"{timing.get('log_generate_s', 0):.1f}, loaded {timing.get('log_load_s', 0):.1f}, "
                    f"tiles {timing.get('log_tiles_s', 0):.1f})"
                )
        done = engine.get("integrator")
        if done:
            print(
                f"  {name}: integrator: {done['placed']:,} pending entries placed in {done['seconds']:.2f} s = "
                f"{done['leaves_per_s']:,.0f} leaves/s (batches of {done['batch']:,}, {done['cpu_s']:.2f} s of this "
                f"process's CPU; the database's apart), target >= 20,000/s"
            )
        lag = engine.get("http", {}).get("lag")
        if lag and lag.get("entries"):
            print(
                f"  {name}: integration lag under load ({lag['entries']:,} decisions over HTTP, the servers' "
                f"integrator threads, {lag['checkpoints']} checkpoints): p50 {lag['p50_s']:.2f} s, "
                f"p99 {lag['p99_s']:.2f} s, max {lag['max_s']:.2f} s; target p99 <= "
                f"{2 * CHECKPOINT_SECONDS:g} s; {lag['unpublished']} never published"
            )
        append = engine.get("append")
        if append and "rounds" in append:
            show_append(name, append)
        elif append:
            print(f"  {name}: append scaling skipped: {append.get('skipped')}")


def show_append(name: str, append: dict[str, Any]) -> None:
    from bench.append import summary

    figures = summary(append)
    writers = append["writers"]
    print(
        f"\n  {name}: append scaling, direct (a process a writer, its own connection), "
        f"{append['seconds']:g} s a measure, median of {len(append['rounds'])} rounds"
    )
    rows = []
    for mode, label in (("log", "log: record_decisions"), ("chain", "chain (old, baseline)")):
        for count in writers:
            f = figures[f"{mode}:{count}"]
            rows.append(
                (
                    label,
                    str(count),
                    f"{f['entries_per_s']:,.0f}",
                    f"{f['cpu_us_per_entry']:,.0f} + {f['db_cpu_us_per_entry']:,.0f}",
                    f"{f['wal_syncs_per_s']:,.0f}",
                    f"{f['commits_per_sync']:.1f}",
                    f"{f['machine_busy']:.0%}",
                )
            )
    print(
        table(
            (
                "append",
                "writers",
                "entries/s",
                "CPU µs an entry (writer + backend)",
                "WAL flushes/s",
                "commits a flush",
                "CPUs busy",
            ),
            rows,
        )
    )
    for mode in ("log", "chain"):
        ratios = figures[f"{mode}:ratio"]
        if ratios:
            summary_ = Summary.of(ratios)
            print(
                f"  {mode}: {writers[-1]} / {writers[0]} writers = {summary_.median:.2f} (spread {summary_.spread:.0%})"
            )
    top = figures[f"log:{writers[-1]}"]
    cpu = top["cpu_us_per_entry"] + top["db_cpu_us_per_entry"]
    cores = append.get("cpus") or 1
    if top["machine_busy"] >= 0.9:
        print(
            f"  What limits the log at {writers[-1]} writers: CPU. The machine's {cores} CPUs were "
            f"{top['machine_busy']:.0%} busy (other processes included); an entry costs {cpu:,.0f} µs of CPU "
            f"(writer {top['cpu_us_per_entry']:,.0f}, of which the receipt's signature, PostgreSQL backend "
            f"{top['db_cpu_us_per_entry']:,.0f}), so {cores} idle CPUs would take at most "
            f"{cores * 1e6 / cpu:,.0f} entries/s; the WAL was flushed {top['wal_syncs_per_s']:,.0f} times a second, "
            f"{top['commits_per_sync']:.1f} commits a flush (group commit), so the disk is not what stops it."
        )
    else:
        print(
            f"  What limits the log at {writers[-1]} writers: the WAL flushes ({top['wal_syncs_per_s']:,.0f} a second, "
            f"{top['commits_per_sync']:.1f} commits each), with the CPUs {top['machine_busy']:.0%} busy "
            f"({cpu:,.0f} µs of CPU an entry)."
        )


def informational_ratios(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for name, engine in results["engines"].items():
        if "in_process" not in engine:
            continue
        hello = _rounds(engine, "small", "hello")
        for title, values in [
            ("verify / hello throughput", _ratio(hello, _rounds(engine, "small", "verify"))),
            ("verify+audit / hello throughput", _ratio(hello, _rounds(engine, "small", "verify+audit"))),
            ("trust-list 304 / hello throughput", _ratio(hello, _rounds(engine, "small", "trust-list-304"))),
            (
                "token verification / jwt.decode",
                _ratio(_rounds(engine, "small", "token"), _rounds(engine, "small", "jwt")),
            ),
            (
                "jwt.decode / raw signature verify",
                _ratio(_rounds(engine, "small", "jwt"), _rounds(engine, "small", "raw")),
            ),
            (
                "batch: server process CPU a token, without the database's / raw verify",
                _ratio(
                    [
                        cpu - db
                        for cpu, db in zip(
                            _rounds(engine, "small", "batch", "cpu_per_token_us"),
                            _rounds(engine, "small", "batch", "db_cpu_per_token_us"),
                            strict=True,
                        )
                    ],
                    _rounds(engine, "small", "raw"),
                ),
            ),
        ]:
            summary = Summary.of(values)
            rows.append((title, name, "in-process", f"{summary.median:.2f}", f"{summary.spread:.0%}"))
        if "scale" in engine["merchants"]:
            for endpoint in ("hello", "verify"):
                values = _ratio(_rounds(engine, "scale", endpoint), _rounds(engine, "small", endpoint))
                summary = Summary.of(values)
                rows.append(
                    (
                        f"p50 1,000,000 / 1,000 merchants ({endpoint})",
                        name,
                        "in-process",
                        f"{summary.median:.2f}",
                        f"{summary.spread:.0%}",
                    )
                )
        if "http" in engine:
            for endpoint in ("hello", "verify"):
                values = _ratio(
                    _http(engine, f"small:{endpoint}", "p99_us"), _http(engine, f"small:{endpoint}", "p50_us")
                )
                summary = Summary.of(values)
                rows.append(
                    (
                        f"p99 / p50 {endpoint}, 16 connections",
                        name,
                        "HTTP",
                        f"{summary.median:.2f}",
                        f"{summary.spread:.0%}",
                    )
                )
    return rows
