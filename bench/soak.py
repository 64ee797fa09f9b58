"""`make soak`: minutes of mixed traffic on gunicorn + PostgreSQL (README, Reliability checks).

    python -m bench.soak [--seconds 180] [--warmup 30] [--workers 3] [--clients 4] [--max-growth 20]

A throwaway database (`soakrun` on the local server, migrated, `load_demo`)
served by gunicorn's sync workers on a free 127.0.0.1 port, and client
threads sending a fixed mix: verifications accepted and deliberately rejected
(no agreement, a forged signature, an expired credential: each a 200 with the
expected reason), batches, trust lists, the public agreement and authority
lists, the regulator's audit log and integrity check, and the audit log's
checkpoint. It checks:

- zero errors: every answer is a 200 with the expected decision;
- the same workers throughout (no restart), and their memory flat: the
  resident set (VmRSS) of each worker after the warm-up and at the end,
  failing when one grew by more than --max-growth percent;
- one decision in the log (entry and row) per decision answered; the
  servers' integrator threads publish every entry, each placed exactly once,
  and `verify_audit_log` finds the log intact; the integration lag
  (created_at to the first signed checkpoint covering it) is reported, p99
  at most 2 x AUDIT_CHECKPOINT_SECONDS (1 s).

It prints the figures and exits 1 on any violation; the database is dropped
at the end. The harness is bench/fault.py's.
"""

import argparse
import base64
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from bench.fault import (
    CHILE,
    CHINA,
    PLATFORM_KEY,
    REGULATOR_KEY,
    Answer,
    Findings,
    LocalCluster,
    Registry,
    check_log,
    drive,
    lag_figures,
    report,
    request,
    rss_kib,
    running_registry,
)

BATCH = 10


@dataclass(frozen=True)
class Call:
    """One request of the mix and what its answer must say."""

    kind: str
    method: str
    path: str
    body: object = None
    key: str | None = None
    expect: tuple[str, ...] = ()  # per decision: "accepted" or the rejection's reason code

    @property
    def decisions(self) -> int:
        return len(self.expect)


def forged(token: str) -> str:
    """The same token with another signature of the right length."""
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def verification_item(case: str) -> tuple[dict, str]:
    """A request body item and the outcome it must get."""
    if case == "accepted":
        return {"token": CHILE.token(), "destination": "CN", "origin": "CL"}, "accepted"
    if case == "accepted_cn":
        return {"token": CHINA.token(), "destination": "CL"}, "accepted"
    if case == "no_agreement":
        return {"token": CHILE.token(), "destination": "VN"}, "no_agreement"
    if case == "invalid_signature":
        return {"token": forged(CHILE.token()), "destination": "CN"}, "invalid_signature"
    if case == "expired":
        past = int(time.time()) - 10 * 86400
        return {"token": CHILE.token(now=past, exp=past + 86400), "destination": "CN"}, "expired"
    raise ValueError(case)


def verify(case: str) -> Call:
    body, outcome = verification_item(case)
    return Call(f"verify:{case}", "POST", "/api/v1/verifications/", body, PLATFORM_KEY, (outcome,))


def batch() -> Call:
    cases = ["accepted", "accepted_cn", "no_agreement", "invalid_signature", "expired"] * (BATCH // 5)
    items = [verification_item(case) for case in cases]
    body = {"items": [item for item, _ in items]}
    return Call("batch", "POST", "/api/v1/verifications/batch/", body, PLATFORM_KEY, tuple(o for _, o in items))


def get(kind: str, path: str, key: str | None = None) -> Callable[[], Call]:
    return lambda: Call(kind, "GET", path, key=key)


# The mix, per 100 requests (the integrity check, which reads the whole log, 1 in 200).
MIX: list[tuple[int, Callable[[], Call]]] = [
    (28, lambda: verify("accepted")),
    (6, lambda: verify("accepted_cn")),
    (6, lambda: verify("no_agreement")),
    (5, lambda: verify("invalid_signature")),
    (5, lambda: verify("expired")),
    (10, batch),
    (4, get("trust-list", "/api/v1/trust-lists/CN/")),
    (3, get("trust-list", "/api/v1/trust-lists/CL/")),
    (3, get("trust-list", "/api/v1/trust-lists/KZ/")),
    (10, get("audit-list", "/api/v1/audit/verifications/?page_size=50", REGULATOR_KEY)),
    (8, get("agreements", "/api/v1/agreements/")),
    (4, get("authorities", "/api/v1/authorities/?country=CN")),
    (2, get("healthz", "/healthz")),
    (1, get("log-checkpoint", "/api/v1/audit/log/checkpoint")),
]
INTEGRITY = get("audit-integrity", "/api/v1/audit/integrity/", REGULATOR_KEY)


def schedule(seed: int) -> list[Callable[[], Call]]:
    calls = [make for weight, make in MIX for _ in range(2 * weight)]
    calls.append(INTEGRITY)
    random.Random(seed).shuffle(calls)
    return calls


@dataclass
class Done:
    call: Call
    answer: Answer


def check_answer(done: Done, found: Findings) -> int:
    """Errors of one answer (violations); returns the decisions it made."""
    call, answer = done.call, done.answer
    if answer.status != 200:
        found.check(False, f"{call.kind}: HTTP {answer.status} {answer.error} {answer.body[:200]!r}")
        return 0
    if not call.decisions:
        return 0
    body = answer.json()
    results = body["results"] if call.kind == "batch" else [body]
    got = tuple("accepted" if r["accepted"] else ",".join(x["code"] for x in r["reasons"]) for r in results)
    found.check(got == call.expect, f"{call.kind}: decided {got}, expected {call.expect}")
    return len(results)


class MemoryWatch:
    """VmRSS of each worker every `every` seconds, in a thread."""

    def __init__(self, pids: set[int], every: float = 5) -> None:
        self.pids, self.every = sorted(pids), every
        self.samples: dict[int, list[tuple[float, int]]] = defaultdict(list)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self) -> None:
        now = time.monotonic()
        for pid in self.pids:
            self.samples[pid].append((now, rss_kib(pid)))

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.sample()

    def __enter__(self) -> "MemoryWatch":
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()

    def at(self, pid: int, moment: float) -> int:
        """The first sample at or after `moment`."""
        return next(rss for when, rss in self.samples[pid] if when >= moment)


def check_memory(watch: MemoryWatch, warm: float, max_growth: float, found: Findings) -> None:
    lines = []
    for pid in watch.pids:
        boot, start, end = watch.samples[pid][0][1], watch.at(pid, warm), watch.samples[pid][-1][1]
        peak = max(rss for _, rss in watch.samples[pid])
        growth = 100 * (end - start) / start
        lines.append(
            f"pid {pid}: {boot / 1024:.1f} MiB at boot, {start / 1024:.1f} after warm-up, "
            f"{end / 1024:.1f} at the end ({growth:+.1f} %), peak {peak / 1024:.1f}"
        )
        found.check(growth <= max_growth, f"worker {pid} grew {growth:+.1f} % after the warm-up (> {max_growth} %)")
    found.figures["worker_rss"] = lines


def latency_figures(done: list[Done]) -> list[str]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for item in done:
        by_kind[item.call.kind.split(":")[0]].append(item.answer.elapsed * 1000)
    lines = []
    for kind, values in sorted(by_kind.items()):
        values.sort()
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        lines.append(
            f"{kind}: {len(values)} requests, median {statistics.median(values):.1f} ms, "
            f"p99 {p99:.1f} ms, max {values[-1]:.1f} ms"
        )
    return lines


def check_audit(registry: Registry, decisions: int, found: Findings) -> None:
    """One decision in the log per decision answered, every entry placed once
    and the log intact (bench.fault.check_log), and the integration lag of
    the run (the servers' integrator threads, a checkpoint at most every
    second): p99 at most 2 x AUDIT_CHECKPOINT_SECONDS."""
    logged = check_log(registry, found)
    found.figures["decisions_logged"] = len(logged)
    found.check(len(logged) == decisions, f"{len(logged)} decisions in the log for {decisions} decisions answered")
    lags = sorted((e.published_at - e.created_at).total_seconds() for e in logged if e.published_at is not None)
    found.figures["integration_lag"] = lag_figures(lags)
    if lags:
        p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
        found.check(p99 <= 2 * registry.checkpoint_seconds, f"integration lag p99 {p99:.2f} s > 2 x 1 s")


def run(args: argparse.Namespace) -> Findings:
    found = Findings()
    server = LocalCluster.server
    with running_registry(server, args.database, args.workers, keep=args.keep) as registry:
        pids = registry.worker_pids()
        plan = schedule(args.seed)
        with MemoryWatch(pids) as watch:
            start = time.monotonic()

            def job(client: int, n: int) -> Done:
                call = plan[(client * 37 + n) % len(plan)]()
                return Done(call, request(registry.port, call.method, call.path, body=call.body, key=call.key))

            done: list[Done] = drive(args.clients, start + args.seconds, args.max_requests, job)
            elapsed = time.monotonic() - start
        decisions = sum(check_answer(item, found) for item in done)
        kinds = Counter(item.call.kind.split(":")[0] for item in done)
        found.figures.update(
            run_s=round(elapsed, 1),
            requests=len(done),
            requests_per_s=round(len(done) / elapsed, 1),
            errors=sum(item.answer.status != 200 for item in done),
            decisions=decisions,
            rejections_expected=sum(o != "accepted" for item in done for o in item.call.expect),
            mix=dict(sorted(kinds.items())),
            latency=latency_figures(done),
        )
        after = registry.worker_pids()
        found.figures.update(worker_pids=sorted(pids))
        found.check(after == pids, f"the workers changed: {sorted(pids)} -> {sorted(after)}")
        found.check("Internal Server Error" not in registry.log_text(), "the log records an Internal Server Error")
        check_memory(watch, start + args.warmup, args.max_growth, found)
        check_audit(registry, decisions, found)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="soakrun", help="throwaway database, dropped at the end")
    parser.add_argument("--seconds", type=float, default=180, help="how long the clients send")
    parser.add_argument("--warmup", type=float, default=30, help="seconds before the memory baseline")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop sending after this many")
    parser.add_argument("--max-growth", type=float, default=20, help="percent of RSS growth allowed after warm-up")
    parser.add_argument("--seed", type=int, default=6, help="seed of the order of the mix")
    parser.add_argument("--keep", action="store_true", help="keep gunicorn's log directory")
    args = parser.parse_args(argv)
    if args.warmup >= args.seconds:
        parser.error("--warmup must be shorter than --seconds")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: gunicorn stopped, database dropped
    found = run(args)
    title = f"soak: {args.workers} gunicorn sync workers, {args.clients} clients, {args.seconds:g} s mixed traffic"
    return report(title, found)


if __name__ == "__main__":
    sys.exit(main())
