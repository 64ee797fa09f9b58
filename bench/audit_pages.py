"""`make bench-audit`: pages of the regulators' audit API on a log of 1,000
rows and on one of 1,000,000, in the same run.

    python -m bench.audit_pages [--databases sqlite,postgresql] [--rows N] [--small-rows N]
                                [--rounds N] [--repeat N] [--check] [--json PATH]

Every database is a throwaway one created here and dropped at the end: a
temporary SQLite file, and on PostgreSQL `bench_audit_<pid>_<size>` on the
server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/). Each
database has a worker process (bench.audit_worker) that loads the log
(tests.support.audit_rows) and times pages through the WSGI handler with a regulator
key; the two sizes take alternate turns of the same rounds, and the ratio of
their page times is taken inside each round.

For every filter, alone and combined (audit_rows.cases), three pages: the
first, the one from the middle of the matching rows and the last full one.
The target is a ratio: a page on 1,000,000 rows costs at most TARGET times
the same page on 1,000. A page whose plan reads a bounded number of index
entries stays near 1 (one more B-tree level, colder caches); one whose plan
reads a share of the log (walking the (created_at, id) index past
non-matching rows, sorting every match) costs tens to hundreds of times more
at a million rows. Every page is also checked against a plain query (its
rows, their leaf indices and leaf hashes, each hash recomputed from the
entry's bytes).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, run
from bench.stats import NOISY_SPREAD, verdict

TARGET = 2.0
RARE_ROWS = 100
POSITIONS = ("first", "middle", "last")


def run_engine(engine: str, args: argparse.Namespace, env: dict[str, str], directory: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    sizes = {"small": args.small_rows, "scale": args.rows}
    rare = min(RARE_ROWS, args.small_rows // 10)  # the same rows at both sizes
    result: dict[str, Any] = {"rows": sizes, "rare": rare}
    with run.throwaway_databases(engine, list(sizes), directory, prefix="bench_audit") as urls:
        workers: dict[str, run.Worker] = {}
        try:
            for name, rows in sizes.items():
                print(f"  {engine}: loading {rows:,} audit rows ...", file=sys.stderr, flush=True)
                arguments = ("--rows", str(rows), "--rare", str(rare), "--seed", str(args.seed))
                workers[name] = run.Worker(name, urls[name], env, "bench.audit_worker", *arguments)
            result["timings"] = {name: worker.ready["timings"] for name, worker in workers.items()}
            result["version"] = run.database_version(engine, urls["small"])
            cases = workers["small"].ask("cases")["cases"]
            result["cases"], result["untargeted"] = (
                list(cases),
                [name for name in cases if untargeted(engine, cases[name])],
            )
            plan = [
                (case, position, 1 if case in result["untargeted"] else args.repeat)
                for case in result["cases"]
                for position in POSITIONS
            ]
            print(f"  {engine}: {args.rounds} rounds of {len(plan)} pages ...", file=sys.stderr, flush=True)
            for worker in workers.values():  # warm: connections, code, caches
                worker.ask("round", plan=[(case, position, 1) for case, position, _ in plan])
            result["rounds"] = [one_round(workers, plan, rng) for _ in range(args.rounds)]
            result["failures"] = {name: worker.ask("failures") for name, worker in workers.items()}
        finally:
            for worker in workers.values():
                worker.stop()
    return result


def untargeted(engine: str, query: dict[str, str]) -> bool:
    """The reason filter alone on SQLite: no index serves it, its pages read
    the rows (README, Performance). Timed once a round, shown, no target."""
    return engine == "sqlite" and set(query) == {"reason"}


def one_round(
    workers: dict[str, run.Worker], plan: list[tuple[str, str, int]], rng: random.Random
) -> dict[str, dict[str, float]]:
    """Every page once, in a shuffled order, each timed on both logs one
    right after the other (in a shuffled order too): the two times of a
    ratio are measured a few milliseconds apart."""
    measured: dict[str, dict[str, float]] = {name: {} for name in workers}
    for case, position, repeat in rng.sample(plan, len(plan)):
        for name in rng.sample(list(workers), len(workers)):
            (page,) = workers[name].ask("round", plan=[(case, position, repeat)])["results"]
            measured[name][f"{case}|{position}"] = page["ms"]
    return measured


def verdicts(engine: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for case in result["cases"]:
        for position in POSITIONS:
            key = f"{case}|{position}"
            small = [measured["small"][key] for measured in result["rounds"]]
            scale = [measured["scale"][key] for measured in result["rounds"]]
            ratio = verdict(
                key, engine, "in-process", [a / b for a, b in zip(scale, small, strict=True)], at_most=TARGET
            ).as_dict()
            if case in result["untargeted"]:
                ratio |= {"target": "-", "status": "no target"}
            found.append(
                {
                    "database": engine,
                    "case": case,
                    "page": position,
                    "small_ms": statistics.median(small),
                    "scale_ms": statistics.median(scale),
                    **ratio,
                }
            )
    return found


def show(results: dict[str, Any], found: list[dict[str, Any]]) -> None:
    print(f"\nEnvironment: {results['environment']}")
    for engine, result in results["engines"].items():
        if "skipped" in result:
            print(f"\n{engine}: skipped: {result['skipped']}")
            continue
        small, scale = result["rows"]["small"], result["rows"]["scale"]
        loads = ", ".join(
            f"{result['rows'][name]:,} rows in {timings['load_s']:.1f} s" for name, timings in result["timings"].items()
        )
        print(f"\n{result['version']}: audit logs of {loads} (rare values: {result['rare']} rows at both sizes)")
        rows = [
            (
                item["case"],
                item["page"],
                f"{item['small_ms']:.1f}",
                f"{item['scale_ms']:.1f}",
                f"{item['value']:.2f}",
                f"{item['spread']:.0%}",
                item["target"],
                item["status"],
            )
            for item in found
            if item["database"] == engine
        ]
        header = ("filter", "page", f"{small:,} ms", f"{scale:,} ms", "ratio", "spread", "target", "verdict")
        print(report.table(header, rows))
        for name, failures in result["failures"].items():
            state = "PASS" if not failures["failure_count"] else "FAIL"
            detail = "; ".join(failures["failures"][:3])
            gate = "every page a 200 with the rows a plain query finds"
            print(f"gate, {result['rows'][name]:,} rows: {gate}: {state} {detail}")
    print(
        "\nratio: median over the rounds of (page time on the large log / on the small one), each time the fastest"
        f" of --repeat requests (other processes only ever add time); spread: interquartile range / median, NOISY"
        f" over {NOISY_SPREAD:.0%}. Pages: the first, the one after the middle matching row, the last full one."
        " Times are informational (this machine drifts by 2x from minute to minute)."
    )


def environment(results: dict[str, Any]) -> str:
    from importlib import metadata

    databases = [result.get("version", f"{engine} skipped") for engine, result in results["engines"].items()]
    parts = [
        f"{platform.node()}: {report.cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}",
        f"Python {platform.python_version()}",
        f"Django {metadata.version('django')}",
        f"DRF {metadata.version('djangorestframework')}",
        *databases,
    ]
    return "; ".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_pages", description=__doc__.split("\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large log")
    parser.add_argument("--small-rows", type=int, default=1_000, help="rows of the small log")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=7, help="requests a page a round (the fastest is kept)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", type=Path, help="results file (default bench/results/audit-<time>.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every ratio passes and every page is right")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = run.engines_of(args.databases)
    started = time.perf_counter()
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(), "argv": sys.argv[1:]}
    results["engines"] = run.each_engine(
        engines, "bench-audit-", lambda engine, env, directory: run_engine(engine, args, env, directory)
    )
    found = [
        item for engine, result in results["engines"].items() if "rounds" in result for item in verdicts(engine, result)
    ]
    results |= {"seconds": time.perf_counter() - started, "environment": environment(results), "verdicts": found}
    show(results, found)
    run.save(results, args.json, stem="audit-")
    print(f"({results['seconds']:.0f} s)")
    failed = [item for item in found if item["status"] not in ("PASS", "no target")] + [
        failures
        for result in results["engines"].values()
        for failures in result.get("failures", {}).values()
        if failures["failure_count"]
    ]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
