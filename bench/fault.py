"""`make fault`: verifications under load while PostgreSQL restarts (README, Reliability checks).

    python -m bench.fault [--workers 3] [--clients 6] [--seconds 30] [--outage-at 8] [--outage 4]

A throwaway database (`faultrun` on the local server, migrated, `load_demo`)
served by gunicorn's sync workers on a free 127.0.0.1 port. Several client
threads post verifications (each a freshly signed token, so that every audit
row can be traced to the request that caused it) while the local PostgreSQL
cluster is stopped and started again (`pg_ctlcluster -m fast`, an operator's
restart; `--outage 0` restarts it in one step). Other faults: `--mode
immediate` (a crash), and with `--private-cluster` (a throwaway cluster of
its own, which disturbs no one) `--mode freeze` (the server's processes
paused: a hang, not a stop). Afterwards it checks:

- every answer is a 200 or, while the database is away, a 503 whose JSON body
  is `{"error": "service_unavailable", ...}`: never a 500, never a traceback,
  no client timeout (gunicorn --timeout and the client timeout are set, and
  DATABASE_URL carries connect_timeout=2);
- the same gunicorn workers (same PIDs, no worker booted again) answer 200 to
  every request once the database is back;
- each 200 names a decision of the log (its entry and its row, the answer's
  `audit` id and leaf hash), and every decision in the log belongs to a 200
  or to the 503 that names it (a commit the database never confirmed: "it
  may have been recorded as audit record <id>", or "N audit records, one an
  item in order: <id>, ..."): decisions = 200s + those named by a 503;
- the servers' own integrator threads (AUDIT_CHECKPOINT_SECONDS=1) recover
  from the outage by themselves and publish every entry within 30 s of the
  run; then `integrate_audit_log --once`, every entry placed exactly once
  (leaf indices 0..n-1) and `verify_audit_log` finds the log intact;
- the integration lag (created_at to the first signed checkpoint covering
  the entry) is reported before, during and after the outage; after it, its
  p99 is at most 2 x AUDIT_CHECKPOINT_SECONDS.

It prints the figures and exits 1 on any violation. The database is dropped
at the end. The restart interrupts every other client of the cluster (other
test runs): the run names them first.

The harness (throwaway registry, gunicorn, HTTP client, tokens) is shared
with bench/soak.py.
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import psycopg2
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from psycopg2 import sql

from bench.http import terminate

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEYS = ROOT / "fixtures" / "demo-keys"
PLATFORM_KEY = "demoplat.DEMOonlyPlatformKeySilkRoad2016x"  # published demo key (load_demo)
REGULATOR_KEY = "demoregu.DEMOonlyRegulatorKeySilkRoad2016"  # published demo key (load_demo)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # ids named by a 503


# PostgreSQL clusters ------------------------------------------------------------------------


def pg_version() -> str:
    return os.environ.get("PG_CLUSTER_VERSION") or sorted(os.listdir("/etc/postgresql"))[0]


def as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL's tools refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run_tool(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {(done.stderr or done.stdout).strip()}")


class LocalCluster:
    """The machine's own cluster (127.0.0.1:5432), stopped and started with
    pg_ctlcluster: what an operator's restart does, and it interrupts every
    other client of the cluster."""

    server = os.environ.get("FAULT_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
    shared = True

    def ctl(self, action: str, mode: str = "fast") -> None:
        name = os.environ.get("PG_CLUSTER_NAME", "main")
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", "-m", mode, pg_version(), name, action]
        run_tool(command, f"pg_ctlcluster {action}")

    def freeze(self, hold: float) -> None:
        raise RuntimeError("--mode freeze needs --private-cluster (it would freeze everyone's server)")

    def close(self) -> None:
        """Nothing to remove: the cluster is the machine's."""


class PrivateCluster(LocalCluster):
    """A throwaway cluster of the same PostgreSQL (initdb in a temporary
    directory, a free port on 127.0.0.1, trust auth): stopping it disturbs
    no one else."""

    shared = False

    def __init__(self) -> None:
        self.bin = Path(f"/usr/lib/postgresql/{pg_version()}/bin")
        self.directory = Path(tempfile.mkdtemp(prefix="fault-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.server = f"postgres://postgres@127.0.0.1:{self.port}"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        run_tool(as_postgres([*initdb, "--no-sync"]), "initdb")
        self.ctl("start")

    def ctl(self, action: str, mode: str = "fast") -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "postgres.log")]
        run_tool(as_postgres([*command, "-m", mode, "-w", "-o", options, action]), f"pg_ctl {action}")

    def freeze(self, hold: float) -> None:
        """SIGSTOP every process of the cluster for `hold` seconds: a server
        that hangs (a paused machine, a lost network) instead of one that
        stops and closes its connections."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        processes = [postmaster, *children_of(postmaster)]
        for pid in processes:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(hold)
        finally:
            for pid in processes:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def close(self) -> None:
        with suppress(RuntimeError, OSError, subprocess.SubprocessError):
            self.ctl("stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def server_connection(server: str, database: str = "postgres") -> Iterator[Any]:
    """An autocommit connection, closed on exit (psycopg2's own `with` would
    open a transaction, where DROP DATABASE cannot run)."""
    connection = psycopg2.connect(f"{server}/{database}", connect_timeout=5)
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def drop_database(server: str, name: str) -> None:
    with server_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database(server: str, name: str) -> None:
    drop_database(server, name)  # a run that was killed may have left it
    with server_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# The throwaway registry ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """The PIDs whose parent is `pid` (gunicorn's workers), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Registry:
    """Migrated and loaded database, gunicorn serving it; `start()` then `stop()`."""

    server: str
    database: str
    workers: int
    timeout: int = 30
    checkpoint_seconds: float = 1.0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="registry-run-")))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.server}/{self.database}?connect_timeout=2"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "SECRET_KEY": self.secret,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "REGISTRY_SIGNING_KEY": str(self.directory / "registry-signing-key.pem"),
            "AUDIT_LOG_KEY": str(self.directory / "audit-log-key.pem"),
            # The integrator as in production: a thread of every worker.
            "AUDIT_INTEGRATOR": "thread",
            "AUDIT_CHECKPOINT_SECONDS": f"{self.checkpoint_seconds:g}",
            "API_THROTTLE_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }

    def __post_init__(self) -> None:
        self.secret = secrets.token_urlsafe(50)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def prepare(self) -> None:
        create_database(self.server, self.database)
        # DEBUG is off here, as in production: the throwaway database is the
        # one place where the demo's published secrets are meant to be.
        for args in (
            ["migrate", "--no-input"],
            ["rotate_registry_key"],
            ["rotate_audit_log_key"],
            ["load_demo", "--allow-without-debug"],
        ):
            done = self.manage(*args)
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--workers={self.workers}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            f"--timeout={self.timeout}",
            "--graceful-timeout=10",
            f"--error-logfile={self.error_log}",
            "--log-level=info",
            "--no-control-socket",
        ]
        # Django logs to stderr (settings.LOGGING): kept with gunicorn's own log.
        with self.django_log.open("wb") as stderr:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see the logs in {self.directory}")
            healthy = request(self.port, "GET", "/healthz", timeout=2).status == 200
            if healthy and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see the logs in {self.directory}")

    @property
    def error_log(self) -> Path:
        return self.directory / "gunicorn.log"

    @property
    def django_log(self) -> Path:
        return self.directory / "django.log"

    def worker_pids(self) -> set[int]:
        return children_of(self.process.pid) if self.process else set()

    def log_text(self) -> str:
        logs = (self.error_log, self.django_log)
        return "".join(path.read_text(errors="replace") for path in logs if path.exists())

    def stop(self) -> None:
        terminate(self.process)


@contextmanager
def running_registry(
    server: str, database: str, workers: int, *, timeout: int = 30, keep: bool = False, checkpoint_seconds: float = 1.0
) -> Iterator[Registry]:
    registry = Registry(
        server=server, database=database, workers=workers, timeout=timeout, checkpoint_seconds=checkpoint_seconds
    )
    try:
        registry.prepare()
        registry.start()
        yield registry
    except BaseException:
        keep = True  # what gunicorn and Django said is the evidence
        raise
    finally:
        registry.stop()
        with suppress(psycopg2.Error):
            drop_database(server, database)
        if keep:
            print(f"gunicorn's log kept in {registry.directory}")
        else:
            shutil.rmtree(registry.directory, ignore_errors=True)


# HTTP ----------------------------------------------------------------------------------------


@dataclass
class Answer:
    started: float  # time.monotonic()
    elapsed: float
    status: int  # 0: no answer (see error)
    body: bytes = b""
    content_type: str = ""
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int, method: str, path: str, *, body: Any = None, key: str | None = None, timeout: float = 10
) -> Answer:
    """One request on a new connection (sync workers close it after each answer)."""
    headers = {"Connection": "close"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["Authorization"] = f"Api-Key {key}"
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Answer(
            started, time.monotonic() - started, response.status, data, response.getheader("Content-Type", "")
        )
    except (OSError, http.client.HTTPException) as exc:
        return Answer(started, time.monotonic() - started, 0, error=f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


# Tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A demo authority's key and one of its merchants (demo/data.py)."""

    file: str
    kid: str
    alg: str
    issuer: str
    country: str
    registration_number: str
    legal_name: str

    def token(self, *, now: int | None = None, **changes: Any) -> str:
        now = int(time.time()) if now is None else now
        claims = {
            "iss": self.issuer,
            "sub": self.registration_number,
            "jti": str(uuid.uuid4()),
            "iat": now - 5,
            "exp": now + 86400,
            "credential_type": "merchant-identity",
            "assurance": "substantial",
            "merchant": {
                "legal_name": self.legal_name,
                "registration_number": self.registration_number,
                "country": self.country,
            },
            **changes,
        }
        headers = {"kid": self.kid, "typ": "merchant-credential+jwt"}
        return jwt.encode(claims, private_key(self.file), algorithm=self.alg, headers=headers)


_keys: dict[str, Any] = {}


def private_key(file: str) -> Any:
    if file not in _keys:
        _keys[file] = load_pem_private_key((DEMO_KEYS / file).read_bytes(), password=None)
    return _keys[file]


CHILE = Signer(
    "DEMO-ONLY-cl-registro-es256.pem",
    "cl-registro-2024",
    "ES256",
    "https://demo-registro.cl.example/issuer",
    "CL",
    "76.543.210-K",
    "Viña Los Andes Exportaciones SpA",
)
CHINA = Signer(
    "DEMO-ONLY-cn-samr-ed25519.pem",
    "cn-samr-2025",
    "EdDSA",
    "https://demo-samr.cn.example/issuer",
    "CN",
    "91330100MA2DEMO02K",
    "Hangzhou Qingshan Silk E-Commerce Co., Ltd.",
)


# The load ------------------------------------------------------------------------------------


@dataclass
class Sent:
    token: str
    answer: Answer


def drive(clients: int, deadline: float, limit: int, job: Callable[[int, int], Any]) -> list[Any]:
    """Run `job(client, n)` in `clients` threads until the monotonic
    `deadline`, or until `limit` jobs have started."""
    results: list[Any] = []
    lock = threading.Lock()
    started = 0

    def loop(client: int) -> None:
        nonlocal started
        n = 0
        while time.monotonic() < deadline:
            with lock:
                if started >= limit:
                    return
                started += 1
            result = job(client, n)
            n += 1
            with lock:
                results.append(result)

    threads = [threading.Thread(target=loop, args=(client,), daemon=True) for client in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_for_postgres(server: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with suppress(psycopg2.Error), server_connection(server):
            return
        time.sleep(0.1)
    raise RuntimeError("PostgreSQL did not come back")


def other_sessions(server: str, database: str) -> list[str]:
    with server_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND datname IS NOT NULL AND datname <> %s AND pid <> pg_backend_pid() GROUP BY datname ORDER BY 1",
            [database],
        )
        return [f"{name} ({count})" for name, count in cursor.fetchall()]


@dataclass
class Outage:
    began: float = 0.0
    ended: float = 0.0
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.began


def cause_outage(cluster: LocalCluster, at: float, hold: float, mode: str, outage: Outage) -> None:
    """At monotonic time `at`, take PostgreSQL away for `hold` seconds (or
    restart it in one step when `hold` is 0); `outage` records when it was
    unreachable, from the stop command to the first accepted connection."""
    time.sleep(max(0.0, at - time.monotonic()))
    outage.began = time.monotonic()
    try:
        if mode == "freeze":
            cluster.freeze(hold)
        elif hold > 0:
            try:
                cluster.ctl("stop", mode)
                time.sleep(hold)
            finally:
                cluster.ctl("start")  # never leave the cluster down
        else:
            cluster.ctl("restart", mode)
        wait_for_postgres(cluster.server)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        outage.error = str(exc)
    outage.ended = time.monotonic()


# The checks ----------------------------------------------------------------------------------


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.violations.append(message)


def overlaps(answer: Answer, outage: Outage, grace: float) -> bool:
    """Was the request in flight while the database was away (or within
    `grace` seconds of its return)?"""
    return answer.started <= outage.ended + grace and answer.started + answer.elapsed >= outage.began


def check_answers(sent: list[Sent], outage: Outage, args: argparse.Namespace, found: Findings) -> None:
    grace, client_timeout = args.grace, args.client_timeout
    statuses = Counter(item.answer.status for item in sent)
    latencies = [item.answer.elapsed for item in sent]
    during = [item for item in sent if overlaps(item.answer, outage, grace)]
    after = [item for item in sent if item.answer.started > outage.ended + grace]
    found.figures.update(
        requests=len(sent),
        ok_200=statuses[200],
        unavailable_503=statuses[503],
        other=len(sent) - statuses[200] - statuses[503],
        no_answer=statuses[0],
        max_latency_s=round(max(latencies, default=0), 3),
        answers_during_outage=len(during),
        answers_after_recovery=len(after),
        ok_after_recovery=sum(item.answer.status == 200 for item in after),
    )
    for item in sent:
        answer = item.answer
        if answer.status == 0:
            found.check(False, f"no answer after {answer.elapsed:.2f} s: {answer.error}")
        elif answer.status not in (200, 503):
            found.check(False, f"HTTP {answer.status}: {answer.body[:300]!r}")
        elif answer.status == 503:
            check_unavailable(answer, outage, grace, found)
    found.check(max(latencies, default=0) < client_timeout, "an answer took as long as the client timeout")
    if args.mode != "freeze":  # a frozen server makes requests wait, not fail
        found.check(statuses[503] > 0, "no 503 seen: the outage was not observed (raise --outage)")
    found.check(len(after) > 0 and all(item.answer.status == 200 for item in after), "not every answer after it is 200")


def check_unavailable(answer: Answer, outage: Outage, grace: float, found: Findings) -> None:
    try:
        body = answer.json()
    except ValueError:
        body = None
    found.check(
        answer.content_type.startswith("application/json")
        and isinstance(body, dict)
        and body.get("error") == "service_unavailable"
        and isinstance(body.get("detail"), str)
        and set(body) == {"error", "detail"},
        f"a 503 that is not the service_unavailable JSON error: {answer.body[:300]!r}",
    )
    found.check(b"Traceback" not in answer.body, "a 503 body carries a traceback")
    found.check(
        overlaps(answer, outage, grace),
        f"a 503 outside the outage (sent {answer.started - outage.began:+.2f} s from its start)",
    )


@dataclass(frozen=True)
class Logged:
    """A decision in the log: its entry, its row, and when it was first in a
    signed checkpoint (None: not yet)."""

    id: str
    seq: int | None
    leaf_hash: str  # base64, as the answer shows it
    token_sha256: str | None  # from its decision row; None when the row is missing
    created_at: datetime
    published_at: datetime | None


def logged_decisions(server: str, database: str) -> list[Logged]:
    with server_connection(server, database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id::text, e.seq, encode(e.leaf_hash, 'base64'), v.token_sha256, e.created_at, "
            "(SELECT c.created_at FROM recognition_checkpoint c WHERE c.size > e.seq ORDER BY c.size LIMIT 1) "
            "FROM recognition_logentry e LEFT JOIN recognition_verification v ON v.id = e.id "
            "WHERE e.kind = 'decision' ORDER BY e.created_at, e.id"
        )
        return [Logged(*row) for row in cursor.fetchall()]


def log_counts(server: str, database: str) -> tuple[int, int, int, int, int]:
    """(entries, entries placed, distinct leaf indices, largest leaf index + 1,
    decision rows)."""
    with server_connection(server, database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(seq), count(DISTINCT seq), coalesce(max(seq) + 1, 0), "
            "(SELECT count(*) FROM recognition_verification) FROM recognition_logentry"
        )
        return cursor.fetchone()


def wait_until_published(server: str, database: str, limit: float) -> float:
    """Seconds until every entry is in a signed checkpoint (the servers'
    integrator threads, nothing else); `limit` if it never happens."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        with server_connection(server, database) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM recognition_logentry WHERE seq IS NULL), "
                "(SELECT coalesce(max(seq) + 1, 0) FROM recognition_logentry), "
                "(SELECT coalesce(max(size), 0) FROM recognition_checkpoint)"
            )
            pending, size, signed = cursor.fetchone()
        if pending == 0 and signed >= size:
            return time.monotonic() - began
        time.sleep(0.2)
    return limit


def lag_figures(lags: list[float]) -> str:
    if not lags:
        return "no decision"
    lags = sorted(lags)
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    return f"{len(lags)} decisions: p50 {statistics.median(lags):.2f} s, p99 {p99:.2f} s, max {lags[-1]:.2f} s"


def check_log(registry: Registry, found: Findings, *, publish_within: float = 30) -> list[Logged]:
    """Let the servers' integrators publish everything (they must recover by
    themselves from anything the run did to the database), then integrate
    what is left, check the whole log with verify_audit_log, and require
    every entry placed exactly once."""
    waited = wait_until_published(registry.server, registry.database, publish_within)
    found.figures["published_by_the_servers_within_s"] = round(waited, 1)
    found.check(
        waited < publish_within,
        f"the servers' integrators had not published every entry {publish_within:g} s after the run",
    )
    integrated = registry.manage("integrate_audit_log", "--once")
    found.check(integrated.returncode == 0, f"integrate_audit_log: {integrated.stdout} {integrated.stderr}")
    logged = logged_decisions(registry.server, registry.database)
    entries, placed, distinct, size, rows = log_counts(registry.server, registry.database)
    found.figures["log"] = f"{entries} entries, {placed} placed, leaf indices 0..{size - 1}, {rows} decision rows"
    found.check(
        placed == entries == distinct == size,
        f"not every entry placed exactly once: {entries} entries, {placed} placed, {distinct} distinct "
        f"leaf indices up to {size - 1}",
    )
    verified = registry.manage("verify_audit_log")
    found.figures["verify_audit_log"] = (verified.stdout.strip() or verified.stderr.strip()).splitlines()[-1:]
    found.check(verified.returncode == 0, f"verify_audit_log: {verified.stdout.strip()} {verified.stderr.strip()}")
    return logged


def check_audit(registry: Registry, sent: list[Sent], found: Findings) -> list[Logged]:
    logged = check_log(registry, found)
    by_id = {item.id: item for item in logged}
    answered = [item for item in sent if item.answer.status == 200]
    found.figures["decisions_logged"] = len(logged)
    for item in answered:
        body = item.answer.json()
        entry = by_id.get(body["id"])
        found.check(entry is not None, f"a 200 whose log entry {body['id']} does not exist")
        if entry is not None:
            audit = body.get("audit", {})
            found.check(
                audit.get("id") == entry.id and audit.get("leaf_hash") == entry.leaf_hash and audit.get("receipt"),
                f"the answer's audit member differs from entry {entry.id}",
            )
            found.check(entry.token_sha256 is not None, f"entry {entry.id} has no decision row")
    answered_ids = {item.answer.json()["id"] for item in answered}
    # A 503 whose commit the database never confirmed names the records it
    # may have written ("audit record <id>" or "N audit records, one an
    # item in order: <id>, ..."); such a record has its answer (that 503).
    named = {
        entry_id: item
        for item in sent
        if item.answer.status == 503
        for entry_id in _UUID.findall(str(item.answer.json().get("detail", "")))
    }
    by_token = {hashlib.sha256(item.token.encode()).hexdigest(): item for item in sent}
    recorded_after_503 = 0
    for entry in logged:
        if entry.id in named:
            recorded_after_503 += 1
            found.check(
                by_token.get(entry.token_sha256) is named[entry.id],
                f"log entry {entry.id} is not the request whose 503 names it",
            )
        elif entry.id not in answered_ids:
            item = by_token.get(entry.token_sha256)
            what = f"HTTP {item.answer.status} {item.answer.error}".strip() if item else "no request of this run"
            found.check(False, f"log entry {entry.id} has no answer naming it (its request got: {what})")
    found.figures["recorded_with_a_503_naming_them"] = recorded_after_503
    found.figures["503_naming_a_possible_record"] = len(named)
    found.check(
        len(logged) == len(answered) + recorded_after_503,
        f"{len(logged)} decisions in the log for {len(answered)} answers of 200 and {recorded_after_503} 503s "
        "naming theirs",
    )
    return logged


def check_workers(registry: Registry, before: set[int], found: Findings) -> None:
    after = registry.worker_pids()
    log = registry.log_text()
    found.figures.update(worker_pids_before=sorted(before), worker_pids_after=sorted(after))
    found.check(after == before, f"the workers changed: {sorted(before)} -> {sorted(after)}")
    booted = len(re.findall(r"Booting worker", log))
    found.check(booted == registry.workers, f"{booted} workers booted for {registry.workers}: one was restarted")
    found.check("WORKER TIMEOUT" not in log, "gunicorn killed a worker that hung (WORKER TIMEOUT)")
    found.check("Internal Server Error" not in log, "the log records an Internal Server Error (a 500)")


# The run -------------------------------------------------------------------------------------


def verification(port: int, signer: Signer, destination: str, timeout: float) -> Sent:
    token = signer.token()
    body = {"token": token, "destination": destination, "origin": signer.country}
    return Sent(token, request(port, "POST", "/api/v1/verifications/", body=body, key=PLATFORM_KEY, timeout=timeout))


def wait_for_quiet(cluster: LocalCluster, database: str, limit: float) -> None:
    """Give other clients of a shared cluster (a test run, say) up to `limit`
    seconds to finish before the restart interrupts them."""
    deadline = time.monotonic() + limit
    others = other_sessions(cluster.server, database)
    if others and limit > 0:
        print(f"fault: waiting up to {limit:g} s for other clients of the cluster: {', '.join(others)}", flush=True)
    while others and time.monotonic() < deadline:
        time.sleep(2)
        others = other_sessions(cluster.server, database)
    if others:
        print(f"fault: the restart will interrupt other clients of the cluster: {', '.join(others)}", flush=True)


def run(args: argparse.Namespace, cluster: LocalCluster) -> Findings:
    found = Findings()
    if cluster.shared:
        wait_for_quiet(cluster, args.database, args.wait_quiet)
    with running_registry(
        cluster.server,
        args.database,
        args.workers,
        timeout=args.gunicorn_timeout,
        keep=args.keep,
        checkpoint_seconds=args.checkpoint_seconds,
    ) as registry:
        before = registry.worker_pids()
        outage = Outage()
        start = time.monotonic()
        deadline = start + args.seconds
        breaker = threading.Thread(
            target=cause_outage, args=(cluster, start + args.outage_at, args.outage, args.mode, outage)
        )
        breaker.start()
        cases = [(CHILE, "CN"), (CHINA, "CL"), (CHILE, "VN")]  # accepted, accepted, rejected (no agreement)
        try:
            sent: list[Sent] = drive(
                args.clients,
                deadline,
                args.max_requests,
                lambda client, n: verification(registry.port, *cases[(client + n) % len(cases)], args.client_timeout),
            )
        finally:
            breaker.join()  # interrupted or not, the cluster is up again before anything else
        found.check(not outage.error, f"the outage could not be caused: {outage.error}")
        check_answers(sent, outage, args, found)
        found.figures.update(
            outage_s=round(outage.seconds, 2),
            outage_from_s=round(outage.began - start, 2),
            run_s=round(time.monotonic() - start, 1),
        )
        check_workers(registry, before, found)
        logged = check_audit(registry, sent, found)
        check_lag(logged, outage, start, args, found)
        if found.violations:
            print(registry.log_text()[-6000:], file=sys.stderr)
    return found


def check_lag(logged: list[Logged], outage: Outage, start: float, args: argparse.Namespace, found: Findings) -> None:
    """Integration lag (created_at to the first signed checkpoint covering
    it) of the decisions made before the outage, during it (to `grace`
    after) and after it: the integrator threads retry on their own, so the
    lag after the outage is the lag of a quiet run."""
    wall = time.time() - time.monotonic()  # monotonic -> UNIX time
    began, ended = outage.began + wall, outage.ended + args.grace + wall
    phases: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    for entry in logged:
        if entry.published_at is None:
            continue
        at = entry.created_at.timestamp()
        phase = "before" if at < began else "during" if at <= ended else "after"
        phases[phase].append((entry.published_at - entry.created_at).total_seconds())
    found.figures["integration_lag"] = [f"{phase} the outage: {lag_figures(lags)}" for phase, lags in phases.items()]
    after = sorted(phases["after"])
    if after:
        p99 = after[min(len(after) - 1, int(0.99 * len(after)))]
        found.check(
            p99 <= 2 * args.checkpoint_seconds,
            f"integration lag after the outage: p99 {p99:.2f} s > 2 x AUDIT_CHECKPOINT_SECONDS",
        )


def report(title: str, found: Findings) -> int:
    print(f"\n{title}")
    for name, value in found.figures.items():
        if isinstance(value, list) and value and all(isinstance(line, str) for line in value):
            print(f"  {name}:")
            for line in value:
                print(f"    {line}")
        else:
            print(f"  {name:24} {value}")
    if found.violations:
        counted = Counter(found.violations)
        print(f"\nFAILED: {len(found.violations)} violation(s)")
        for message, times in counted.most_common(20):
            print(f"  - {message}" + (f" (x{times})" if times > 1 else ""))
        return 1
    print("\nOK: no violation")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="faultrun", help="throwaway database, dropped at the end")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=6, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=30, help="how long the clients send")
    parser.add_argument("--max-requests", type=int, default=50_000, help="stop sending after this many")
    parser.add_argument("--outage-at", type=float, default=8, help="seconds into the load when PostgreSQL stops")
    parser.add_argument("--outage", type=float, default=4, help="seconds PostgreSQL stays down (0: restart)")
    parser.add_argument(
        "--mode",
        choices=["smart", "fast", "immediate", "freeze"],
        default="fast",
        help="how PostgreSQL stops (pg_ctl -m): fast is an operator's restart, immediate a crash; "
        "freeze (with --private-cluster) pauses its processes for --outage seconds",
    )
    parser.add_argument("--grace", type=float, default=1, help="seconds after it is back in which a 503 is allowed")
    parser.add_argument("--client-timeout", type=float, default=10, help="seconds a client waits for an answer")
    parser.add_argument("--gunicorn-timeout", type=int, default=30, help="gunicorn --timeout")
    parser.add_argument("--keep", action="store_true", help="keep gunicorn's log directory")
    parser.add_argument("--checkpoint-seconds", type=float, default=1.0, help="AUDIT_CHECKPOINT_SECONDS of the servers")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300,
        help="seconds to wait for other clients of the local cluster to leave before starting",
    )
    parser.add_argument(
        "--private-cluster",
        action="store_true",
        help="run on a throwaway PostgreSQL cluster of its own instead of restarting the machine's",
    )
    args = parser.parse_args(argv)
    if args.outage_at >= args.seconds:
        parser.error("--outage-at must fall inside --seconds")
    if args.mode == "freeze" and not (args.private_cluster and args.outage > 0):
        parser.error("--mode freeze needs --private-cluster and --outage > 0")
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: gunicorn stopped,
    # the cluster started again, the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = PrivateCluster() if args.private_cluster else LocalCluster()
    try:
        found = run(args, cluster)
    finally:
        cluster.close()
    title = (
        f"fault: {args.workers} gunicorn sync workers, {args.clients} clients, {args.seconds:g} s; "
        f"{'a private' if args.private_cluster else 'the local'} PostgreSQL {pg_version()} cluster "
        f"{'stopped for ' + format(args.outage, 'g') + ' s' if args.outage else 'restarted'} at {args.outage_at:g} s "
        f"(-m {args.mode})"
    )
    return report(title, found)


if __name__ == "__main__":
    sys.exit(main())
