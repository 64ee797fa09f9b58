"""`make bench`: the verification path against its yardsticks, in the same run.

    python -m bench.run [--http] [--no-scale] [--databases sqlite,postgresql] [--check]

Every database is a throwaway one created here and dropped at the end: a
temporary SQLite file, and on PostgreSQL `bench_<pid>_<size>` on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/). Each database has
its own worker process (bench.worker); the worker on the 1,000-merchant data
set and the one on the 1,000,000-merchant data set are measured in alternate
turns of the same rounds, so the scale ratio is a same-run ratio too.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench import dataset, http, report, witnesses

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SMALL_VARIANTS = ["hello", "verify", "verify+audit", "token", "package", "raw", "jwt", "batch", "trust-list-304"]
SCALE_VARIANTS = ["hello", "verify", "verify+audit"]
ENDPOINTS = {
    "hello": "/bench/hello/",
    "verify": "/bench/verifications/",
    "verify+audit": "/api/v1/verifications/",
    "trust-list-304": "/api/v1/trust-lists/{country}/",
}


class Unavailable(Exception):
    """A database the run cannot use (said in the report, not a crash)."""


class Worker:
    """A bench.worker process: one JSON command a line, one JSON answer."""

    def __init__(self, name: str, database_url: str, env: dict[str, str], module: str, *arguments: str) -> None:
        self.name = name
        self.database_url = database_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *arguments],
            cwd=ROOT,
            env=dict(env, DATABASE_URL=database_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker died (exit status {self.process.wait()})")
        return json.loads(line)

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.process.poll() is None:
            with suppress(BrokenPipeError, OSError, RuntimeError, ValueError):
                self.ask("stop")
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


# Throwaway databases ------------------------------------------------------------------------


def postgres_server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_databases(
    engine: str, names: list[str], directory: Path, prefix: str = "bench"
) -> Iterator[dict[str, str]]:
    """name -> DATABASE_URL of a new, empty database, dropped on the way out
    (PostgreSQL: `<prefix>_<pid>_<name>`)."""
    if engine == "sqlite":
        yield {name: f"sqlite:///{directory / f'{prefix}-{name}.sqlite3'}" for name in names}
        return
    import psycopg2

    server = urlparse(postgres_server_url())
    try:
        admin = psycopg2.connect(urlunparse(server._replace(path="/postgres")), connect_timeout=5)
    except psycopg2.Error as exc:
        raise Unavailable(f"cannot connect to PostgreSQL at {server.hostname}:{server.port}: {exc}".strip()) from None
    admin.autocommit = True
    databases = {name: f"{prefix}_{os.getpid()}_{name}" for name in names}
    try:
        with admin.cursor() as cursor:
            for database in databases.values():
                cursor.execute(f'CREATE DATABASE "{database}"')
        yield {name: urlunparse(server._replace(path=f"/{database}")) for name, database in databases.items()}
    finally:
        with admin.cursor() as cursor:
            for database in databases.values():
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def signing_key(directory: Path, name: str = "registry-signing-key") -> Path:
    """A new Ed25519 PEM key file: the registry's trust-list key (the WSGI
    entry point refuses to start without one; unused by verifications) or the
    audit log's (checkpoints and every answer's receipt)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    path = directory / f"{name}.pem"
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


# One database engine ------------------------------------------------------------------------


def in_process_rounds(workers: dict[str, Worker], args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    plans = {"small": SMALL_VARIANTS, "scale": SCALE_VARIANTS}
    counts = {
        name: worker.ask("calibrate", names=plans[name], seconds=args.seconds)["counts"]
        for name, worker in workers.items()
    }
    rounds = []
    for _ in range(args.rounds):
        measured = {}
        for name in rng.sample(list(workers), len(workers)):
            plan = [(variant, counts[name][variant]) for variant in rng.sample(plans[name], len(plans[name]))]
            measured[name] = workers[name].ask("round", plan=plan)["results"]
        rounds.append(measured)
    return {"counts": counts, "rounds": rounds}


def proof_rounds(workers: dict[str, Worker], args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """An entry's inclusion proof on each worker's preloaded log (1,000 and
    1,000,000 entries), the workers in a shuffled order each round: before
    anything else writes to the logs."""
    counts = {
        name: worker.ask("calibrate", names=["proof"], seconds=args.seconds)["counts"]["proof"]
        for name, worker in workers.items()
    }
    rounds = []
    for _ in range(args.rounds):
        rounds.append(
            {
                name: workers[name].ask("round", plan=[("proof", counts[name])])["results"]["proof"]
                for name in rng.sample(list(workers), len(workers))
            }
        )
    return {"counts": counts, "rounds": rounds}


def append_scaling(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """bench.append in a process of its own on the small database."""
    command = [sys.executable, "-m", "bench.append", "--json", "--writers", args.append_writers]
    command += ["--seconds", str(args.append_seconds), "--rounds", str(args.append_rounds)]
    done = subprocess.run(
        command, cwd=ROOT, env=dict(env, DATABASE_URL=url), capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        return {"skipped": f"bench.append failed: {done.stderr.strip()[-500:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def status_list_bench(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """bench.status_lists in a process of its own on the small database."""
    command = [sys.executable, "-m", "bench.status_lists", "--json", "--entries", str(args.status_entries)]
    done = subprocess.run(
        command, cwd=ROOT, env=dict(env, DATABASE_URL=url), capture_output=True, text=True, timeout=3600, check=False
    )
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        return {"skipped": f"bench.status_lists failed: {done.stderr.strip()[-500:]}"}
    return json.loads(lines[-1])


def http_rounds(
    workers: dict[str, Worker], args: argparse.Namespace, rng: random.Random, env: dict[str, str], directory: Path
) -> dict[str, Any]:
    servers, bodies, started = {}, {}, []
    for worker in workers.values():  # what the in-process rounds wrote, placed before the clock starts
        worker.ask("integrate")
        analyze(worker.database_url)
    since = time.time()
    try:
        for name, worker in workers.items():
            bodies[name] = worker.ask("bodies", directory=str(directory))
            quorum = {"AUDIT_WITNESS_QUORUM": str(args.witnesses)} if name == "witnessed" else {}
            servers[name] = http.Server(name, worker.database_url, env | quorum, args.workers, directory)
            servers[name].start()
        runs = [("small", endpoint) for endpoint in ENDPOINTS] + (
            [("scale", "verify+audit")] if "scale" in workers else []
        )
        if "witnessed" in workers:  # the same data set, its checkpoints pushed to witnesses
            started = witnesses.start(
                args.witnesses, servers["witnessed"].url, workers["witnessed"].database_url, directory, env
            )
            runs.append(("witnessed", "verify+audit"))
        for name, endpoint in runs:  # warm every worker process: snapshot, connection, code
            one_run(servers[name], workers[name], endpoint, bodies[name], seconds=1.0, connections=args.connections)
        rounds = []
        for _ in range(args.http_rounds):
            rounds.append(
                {
                    f"{name}:{endpoint}": one_run(
                        servers[name],
                        workers[name],
                        endpoint,
                        bodies[name],
                        seconds=args.duration,
                        connections=args.connections,
                    )
                    for name, endpoint in rng.sample(runs, len(runs))
                }
            )
        # While the servers (and their integrator threads) still run.
        lag = workers["small"].ask("lag", since=since)["lag"]
        found = {"rounds": rounds, "workers": args.workers, "connections": args.connections, "lag": lag}
        if started:
            found["witnesses"] = witnessed(servers["witnessed"], workers["witnessed"], args)
        return found
    finally:
        witnesses.stop(started)
        for server in servers.values():
            server.stop()


def witnessed(server: http.Server, worker: Worker, args: argparse.Namespace) -> dict[str, Any]:
    """What the witnesses cosigned once the load stopped: the checkpoint
    served under the quorum, given a few checkpoint intervals to catch up
    with the last entries."""
    worker.ask("integrate")
    entries = worker.ask("audit_rows")["audit_rows"]
    deadline, served = time.monotonic() + 15, {}
    while time.monotonic() < deadline:
        served = witnesses.cosigned(server.url)
        if served["size"] >= entries and served["cosignatures"] >= args.witnesses:
            break
        time.sleep(0.5)
    return {"count": args.witnesses, "decision_entries": entries, **served}


def analyze(database_url: str) -> None:
    """PostgreSQL: fresh planner statistics for every table, so that servers
    on databases loaded at different times (the witnessed one is made after
    the in-process rounds, which autovacuum had time to follow) are measured
    with the same plans."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg2

    with closing(psycopg2.connect(database_url)) as database:
        database.autocommit = True
        with database.cursor() as cursor:
            cursor.execute("ANALYZE")


def one_run(
    server: http.Server, worker: Worker, endpoint: str, bodies: dict[str, str], *, seconds: float, connections: int
) -> dict[str, Any]:
    path = ENDPOINTS[endpoint].format(country=bodies.get("country", ""))
    rows = worker.ask("audit_rows")["audit_rows"]
    if endpoint == "trust-list-304":
        # The ETag a reader got with its copy (from whichever server process
        # answered first); every answer after it must be a 304.
        etag = server.etag(path)
        server.wait_until_idle()  # its 200 logged before the count starts (gunicorn logs after answering)
        offset = server.log_offset()
        result = http.run_wrk(server, path, etag, seconds=seconds, connections=connections, script=http.GET_LUA)
    else:
        offset = server.log_offset()
        result = http.run_wrk(
            server, path, bodies["bodies"], bodies["api_key"], seconds=seconds, connections=connections
        )
    server.wait_until_idle()  # the requests in flight when wrk stopped are answered, and logged
    result["audit_rows"] = worker.ask("audit_rows")["audit_rows"] - rows
    if endpoint == "trust-list-304":
        result["logged_304"], result["logged_other"] = server.answers_since(offset, path, expected="304")
    else:
        result["logged_2xx"], result["logged_other"] = server.answers_since(offset, ENDPOINTS["verify+audit"])
    return result


def run_engine(engine: str, args: argparse.Namespace, env: dict[str, str], directory: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    names = ["small", "scale"] if args.scale else ["small"]
    databases = names + (["witnessed"] if args.http and args.witnesses else [])
    sizes = {"small": dataset.SMALL_MERCHANTS, "scale": args.merchants}
    result: dict[str, Any] = {}
    with throwaway_databases(engine, databases, directory) as urls:
        workers: dict[str, Worker] = {}
        try:
            entries = {"small": args.small_log_entries, "scale": args.log_entries}
            for name in names:
                print(
                    f"  {engine}: generating the {sizes[name]:,}-merchant data set, {entries[name]:,} log entries ...",
                    file=sys.stderr,
                    flush=True,
                )
                arguments = ("--merchants", str(sizes[name]), "--seed", str(args.seed))
                arguments += ("--log-entries", str(entries[name]))
                workers[name] = Worker(name, urls[name], env, "bench.worker", *arguments)
            result["generation"] = {name: workers[name].ready["timings"] for name in names}
            result["merchants"] = {name: sizes[name] for name in names}
            result["log_entries"] = {name: entries[name] for name in names}
            result["version"] = database_version(engine, urls["small"])
            print(f"  {engine}: inclusion proofs ...", file=sys.stderr, flush=True)
            result["proofs"] = proof_rounds(workers, args, rng)
            print(f"  {engine}: the integrator on {args.backlog:,} pending entries ...", file=sys.stderr, flush=True)
            result["integrator"] = workers["small"].ask("integrator", backlog=args.backlog)["integrator"]
            print(f"  {engine}: in-process rounds ...", file=sys.stderr, flush=True)
            result["in_process"] = in_process_rounds(workers, args, rng)
            if engine == "postgresql" and args.append_rounds:
                print(f"  {engine}: append scaling ...", file=sys.stderr, flush=True)
                result["append"] = append_scaling(urls["small"], env, args)
            if args.status_entries:
                print(f"  {engine}: a status list of {args.status_entries:,} credentials ...", file=sys.stderr)
                result["status_lists"] = status_list_bench(urls["small"], env, args)
            result["queries"] = {name: worker.ask("queries")["queries"] for name, worker in workers.items()}
            result["justification"] = workers["small"].ask("justify")["justify"]
            if args.http:
                served = dict(workers)
                if args.witnesses:
                    print(f"  {engine}: the data set of the witnessed server ...", file=sys.stderr, flush=True)
                    arguments = ("--merchants", str(sizes["small"]), "--seed", str(args.seed))
                    arguments += ("--log-entries", str(entries["small"]))
                    served["witnessed"] = workers["witnessed"] = Worker(
                        "witnessed", urls["witnessed"], env, "bench.worker", *arguments
                    )
                print(f"  {engine}: HTTP rounds ...", file=sys.stderr, flush=True)
                result["http"] = http_rounds(served, args, rng, env, directory)
            result["gates"] = {name: worker.ask("gates")["gates"] for name, worker in workers.items()}
        finally:
            for worker in workers.values():
                worker.stop()
    return result


def database_version(engine: str, url: str) -> str:
    if engine == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg2

    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


# The run ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--http", action="store_true", help="also run the HTTP mode (gunicorn + wrk)")
    parser.add_argument("--no-scale", dest="scale", action="store_false", help="skip the 1,000,000-merchant data set")
    parser.add_argument("--merchants", type=int, default=dataset.SCALE_MERCHANTS, help="merchants of the scale set")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--rounds", type=int, default=15, help="in-process rounds")
    parser.add_argument("--seconds", type=float, default=0.12, help="in-process seconds per variant per round")
    parser.add_argument("--http-rounds", type=int, default=7)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--log-entries", type=int, default=1_000_000, help="log entries of the scale data set")
    parser.add_argument("--small-log-entries", type=int, default=1_000, help="log entries of the small data set")
    parser.add_argument("--backlog", type=int, default=100_000, help="pending entries the integrator is timed on")
    parser.add_argument(
        "--status-entries", type=int, default=1_000_000, help="credentials of the status-list bench (0: skip)"
    )
    parser.add_argument("--append-writers", default="1,4,16", help="concurrent writers of the append scaling")
    parser.add_argument("--append-seconds", type=float, default=3.0, help="seconds per append measure")
    parser.add_argument("--append-rounds", type=int, default=3, help="append scaling rounds (0: skip)")
    parser.add_argument(
        "--witnesses", type=int, default=2, help="HTTP mode: witnesses of a third server's log (0: no such server)"
    )
    parser.add_argument("--json", type=Path, help="results file (default bench/results/<time>.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target and gate passes")
    return parser.parse_args(argv)


def engines_of(databases: str) -> list[str]:
    """`--databases`: the engines named; exit status 2 for an unknown one."""
    engines = [name.strip() for name in databases.split(",") if name.strip()]
    unknown = set(engines) - {"sqlite", "postgresql"}
    if unknown:
        print(f"error: unknown database {', '.join(sorted(unknown))}", file=sys.stderr)
        raise SystemExit(2)
    return engines


def each_engine(
    engines: list[str], prefix: str, measure: Callable[[str, dict[str, str], Path], dict[str, Any]]
) -> dict[str, Any]:
    """engine -> measure(engine, the workers' environment, a scratch
    directory), or {"skipped": why} for a database the run cannot use."""
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        directory = Path(scratch)
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        env |= {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": os.pathsep.join((str(ROOT / "verifier" / "src"), str(ROOT))),
        }
        env["REGISTRY_SIGNING_KEY"] = str(signing_key(directory))
        env["AUDIT_LOG_KEY"] = str(signing_key(directory, "audit-log-key"))
        # The integrator as in production: a thread of every server process, a checkpoint at most every second.
        env |= {"AUDIT_INTEGRATOR": "thread", "AUDIT_CHECKPOINT_SECONDS": "1"}
        for engine in engines:
            try:
                found[engine] = measure(engine, env, directory)
            except Unavailable as exc:
                print(f"  {engine}: skipped ({exc})", file=sys.stderr)
                found[engine] = {"skipped": str(exc)}
    return found


def save(results: dict[str, Any], path: Path | None, stem: str = "") -> None:
    path = path or RESULTS / f"{stem}{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nResults: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = engines_of(args.databases)
    if args.http and not http.wrk_path():
        print("wrk is absent: the HTTP mode needs it (apt-get install wrk); running in-process only", file=sys.stderr)
        args.http_skipped = "wrk is absent (apt-get install wrk)"
        args.http = False
    started = time.perf_counter()
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(), "argv": sys.argv[1:]}
    results["engines"] = each_engine(engines, "bench-", lambda engine, env, dir_: run_engine(engine, args, env, dir_))
    results["seconds"] = time.perf_counter() - started
    results["environment"] = report.environment(results, args)
    results["settings"] = {key: str(value) for key, value in vars(args).items()}
    verdicts, gates = report.verdicts(results, args), report.gates(results, args)
    results["verdicts"] = [item.as_dict() for item in verdicts]
    results["gates"] = gates
    report.show(results, verdicts, gates, args)
    save(results, args.json)
    failed = [item for item in verdicts if item.status != "PASS"] + [gate for gate in gates if not gate["passed"]]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
