"""Append scaling on PostgreSQL: entries committed a second by 1, 4 and 16
concurrent writers, the log's append beside the audit chain's it replaced.

    python -m bench.append [--writers 1,4,16] [--seconds 3] [--rounds 2]   (DATABASE_URL: a migrated database)

Each writer is a process of its own with its own connection, calling the
append in a loop with a realistic decision (an acceptance under an
agreement), no HTTP:

- **log**: `recognition.services.audit.record_decisions([entry])`, what every
  verification runs: the log entry and its decision row in one INSERT in
  autocommit (committed and on disk), and the receipt signed. No lock, no
  head read.
- **chain**: the old append (`git show aa68f76:recognition/services/audit.py`)
  kept here as the baseline, writing to a table of the benchmark's own
  (`bench_chain`: the decision row's columns, indexes and foreign key, plus
  seq, prev_hash and hash): in a transaction, `SET LOCAL synchronous_commit TO OFF`, the
  log-wide advisory lock and the head read in one round trip, the chained
  row's INSERT, COMMIT (released without waiting for the disk), then a
  WAL-writing synchronous statement to wait for the disk outside the lock.

A round measures every (append, writers) pair once, in a shuffled order. With
each figure comes what limits it: the WAL flushes a second and the commits
each flush carried (pg_stat_wal, pg_stat_database: cluster-wide, so other
clients of the server add to them), the CPU an entry cost (writer processes
and their PostgreSQL backends, from /proc), and how busy the machine's CPUs
were.
"""

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CHAIN_TABLE = "bench_chain"
GENESIS = "0" * 64
_CHAIN_LOCK = 0x4D5252  # the old append's advisory lock key ("MRR")
_HEAD = f"SELECT seq, hash, created_at FROM {CHAIN_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
COLUMNS = (
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version", "seq", "prev_hash", "hash",
)  # fmt: skip


def cpu_seconds_of(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of every CPU of the machine since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def create_chain_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHAIN_TABLE}")
        cursor.execute(f"CREATE TABLE {CHAIN_TABLE} (LIKE recognition_verification INCLUDING ALL)")
        cursor.execute(
            f"ALTER TABLE {CHAIN_TABLE} ADD COLUMN seq bigint NOT NULL UNIQUE, "
            "ADD COLUMN prev_hash varchar(64) NOT NULL, ADD COLUMN hash varchar(64) NOT NULL UNIQUE, "
            # As the decision row's (LIKE copies no foreign key): checked at commit.
            "ADD FOREIGN KEY (agreement_id) REFERENCES recognition_recognitionagreement (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )


@functools.cache
def _authority() -> Any:
    from bench import dataset

    return dataset.make_authorities()[0]


def realistic_entry(n: int) -> Any:
    """An acceptance as the benchmark's data set makes them: authority 0's
    merchant presented in its first agreement's destination."""
    from bench import dataset
    from recognition.services.audit import AuditEntry

    authority = _authority()
    return AuditEntry(
        client="bench-platform",
        destination=authority.destinations[0],
        origin=authority.country,
        declared_origin="",
        issuer=authority.issuer,
        kid=authority.kid,
        subject=dataset.registration_number(n),
        jti=str(uuid.uuid4()),
        token_sha256=hashlib.sha256(f"token-{n}".encode()).hexdigest(),
        decision="accepted",
        reasons=[],
        agreement_id=1,  # authority 0's first agreement, and its history row
        agreement_version=1,
    )


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_append(entry: Any) -> None:
    """The old append's essentials (aa68f76 audit_commit + audit_append)."""
    from django.db import connection, transaction
    from django.utils import timezone

    at = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit TO OFF; SELECT pg_advisory_xact_lock({_CHAIN_LOCK}); {_HEAD}")
        last = cursor.fetchone()
        seq, prev_hash, head_at = last if last else (0, GENESIS, None)
        if head_at is not None and at < head_at:
            at = head_at
        row_id = uuid.uuid4()
        fields = {**entry.__dict__, "id": str(row_id), "seq": seq + 1, "created_at": _timestamp(at)}
        row_hash = hashlib.sha256(prev_hash.encode("ascii") + _CANONICAL.encode(fields).encode("utf-8")).hexdigest()
        values = {**entry.__dict__, "id": row_id, "created_at": at, "seq": seq + 1, "prev_hash": prev_hash}
        values["hash"], values["reasons"] = row_hash, json.dumps(entry.reasons)
        names = ", ".join(COLUMNS)
        marks = ", ".join(["%s"] * len(COLUMNS))
        cursor.execute(
            f"INSERT INTO {CHAIN_TABLE} ({names}) VALUES ({marks})",  # noqa: S608 (our names)
            [values[name] for name in COLUMNS],
        )
    with connection.cursor() as cursor:  # on disk before the answer, outside the lock
        cursor.execute("SELECT pg_logical_emit_message(true, 'bench.chain', '')")


def log_append(entry: Any) -> None:
    from django.utils import timezone

    from recognition.services.audit import record_decisions

    record_decisions([entry], at=timezone.now())


APPENDS = {"log": log_append, "chain": chain_append}


def writer(mode: str, start: Any, deadline_at: Any, results: Any, number: int) -> None:
    """One writer process: its own connection, a few warm-up appends, then
    appends until the deadline; puts (count, its CPU, its backend's CPU)."""
    from django.db import connection

    append = APPENDS[mode]
    entry = realistic_entry(number)
    try:
        for _ in range(3):
            append(entry)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        start.wait()
        deadline = deadline_at.value
        cpu, db_cpu, count = time.process_time(), cpu_seconds_of(backend), 0
        while time.time() < deadline:
            append(entry)
            count += 1
        results.put((count, time.process_time() - cpu, cpu_seconds_of(backend) - db_cpu, ""))
    except Exception as exc:  # noqa: BLE001 (reported by the parent)
        results.put((0, 0.0, 0.0, f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def wal_and_commits() -> tuple[int, int, int]:
    """(WAL flushes, WAL writes, commits in this database) so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT wal_sync FROM pg_stat_wal), (SELECT wal_write FROM pg_stat_wal), "
            "xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()


def measure(mode: str, writers: int, seconds: float) -> dict[str, Any]:
    from django.db import connections

    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    deadline_at = context.Value("d", 0.0)
    connections.close_all()  # each writer opens its own
    processes = [
        context.Process(target=writer, args=(mode, start, deadline_at, results, n), daemon=True) for n in range(writers)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5 + 0.05 * writers)  # the warm-up appends
    syncs, writes, commits = wal_and_commits()
    connections.close_all()
    busy, total = machine_cpu()
    began = time.time()
    deadline_at.value = began + seconds
    start.set()
    got = [results.get(timeout=seconds + 120) for _ in processes]
    elapsed = time.time() - began
    busy, total = machine_cpu()[0] - busy, machine_cpu()[1] - total
    for process in processes:
        process.join(timeout=30)
    time.sleep(0.2)  # the writers' statistics reach pg_stat_* as their backends exit
    syncs_after, writes_after, commits_after = wal_and_commits()
    connections.close_all()
    count = sum(item[0] for item in got)
    return {
        "entries_per_s": count / seconds,
        "entries": count,
        "seconds": elapsed,
        "cpu_us_per_entry": sum(item[1] for item in got) / max(count, 1) * 1e6,
        "db_cpu_us_per_entry": sum(item[2] for item in got) / max(count, 1) * 1e6,
        "wal_syncs_per_s": (syncs_after - syncs) / elapsed,
        "wal_writes_per_s": (writes_after - writes) / elapsed,
        "commits_per_s": (commits_after - commits) / elapsed,
        "commits_per_sync": (commits_after - commits) / max(syncs_after - syncs, 1),
        "machine_busy": busy / max(total, 1),
        "errors": [item[3] for item in got if item[3]][:3],
    }


def run(writer_counts: list[int], seconds: float, rounds: int, seed: int = 5) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only"}
    create_chain_table()
    _authority()  # once, before the writers fork
    rng = random.Random(seed)
    plan = [(mode, writers) for mode in APPENDS for writers in writer_counts]
    measured: list[dict[str, dict[str, Any]]] = []
    for _ in range(rounds):
        measured.append({f"{mode}:{w}": measure(mode, w, seconds) for mode, w in rng.sample(plan, len(plan))})
    return {"writers": writer_counts, "seconds": seconds, "cpus": os.cpu_count(), "rounds": measured}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Median over rounds of each figure, and the ratio most writers / one
    writer taken inside each round."""
    rounds, counts = result["rounds"], result["writers"]
    out: dict[str, Any] = {}
    for mode in APPENDS:
        for writers in counts:
            runs = [round_[f"{mode}:{writers}"] for round_ in rounds]
            out[f"{mode}:{writers}"] = {
                key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "errors"
            }
        out[f"{mode}:ratio"] = [
            round_[f"{mode}:{counts[-1]}"]["entries_per_s"] / round_[f"{mode}:{counts[0]}"]["entries_per_s"]
            for round_ in rounds
            if round_[f"{mode}:{counts[0]}"]["entries_per_s"]
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,4,16", help="comma-separated writer counts, fewest first")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the raw results as one JSON line")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    result = run([int(n) for n in args.writers.split(",")], args.seconds, args.rounds)
    if args.json:
        print(json.dumps(result))
        return 0
    print(json.dumps(summary(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
