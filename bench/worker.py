"""One database's side of the benchmark, in a process of its own (Django is
set up once per process, for one DATABASE_URL).

The parent (bench.run) sends one JSON command a line; the worker answers one
JSON line on stdout. It migrates and fills its throwaway database, then runs
the in-process variants the parent asks for, round after round, calling the
WSGI handler directly (the same handler gunicorn calls).
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERIFY = "/api/v1/verifications/"
BATCH = "/api/v1/verifications/batch/"
PATHS = {"hello": "/bench/hello/", "verify": "/bench/verifications/", "verify+audit": VERIFY}
BATCH_SIZE = 100


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def cpu_seconds_of(pid: int) -> float:
    """On-CPU time of another process on this machine (nanoseconds from
    /proc/<pid>/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def wsgi_environ(api_key: str, method: str, **more: str) -> dict[str, Any]:
    """A request's WSGI environment as gunicorn would pass it, with the key."""
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        # Behind the TLS proxy of a deployment (SECURE_PROXY_SSL_HEADER).
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_AUTHORIZATION": f"Api-Key {api_key}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **more,
    }


def call_wsgi(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[int, bytes]:
    """One request through the WSGI handler: its status and body."""
    status: list[str] = []
    response = app(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        content = b"".join(response)
    finally:
        response.close()
    return int(status[0][:3]), content


class Worker:
    def __init__(self, merchants: int, token_count: int, seed: int) -> None:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        from accounts.services import api_key_create
        from bench import dataset

        self.timings: dict[str, float] = {}
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        self.timings["migrate_s"] = time.perf_counter() - started
        now = timezone.now().replace(microsecond=0)
        started = time.perf_counter()
        self.authorities = dataset.make_authorities()
        dataset.create_registry(self.authorities, now=now)
        self.timings["registry_s"] = time.perf_counter() - started
        started = time.perf_counter()
        dataset.add_merchants(merchants, now=now)
        self.timings["merchants_s"] = time.perf_counter() - started
        self.merchants = merchants
        _, self.api_key = api_key_create(name="bench-platform", role="platform")
        stamp = int(now.timestamp())
        self.tokens = dataset.tokens(self.authorities, merchants, token_count, now=stamp, seed=seed)
        self.bad = dataset.tampered(self.tokens[0])
        self.bodies = [token.body() for token in self.tokens]
        self.batches = [
            json.dumps({"items": [{"token": t.token, "destination": t.destination} for t in chunk]}).encode()
            for chunk in dataset.chunks(self.tokens, BATCH_SIZE)
            if len(chunk) == BATCH_SIZE
        ]
        from django.core.wsgi import get_wsgi_application

        self.app = get_wsgi_application()
        self.environ = wsgi_environ(self.api_key, "POST", CONTENT_TYPE="application/json")
        self.cursor = {name: 0 for name in ("hello", "verify", "verify+audit", "token", "raw", "jwt", "batch")}
        self.counts: dict[str, int] = {}
        self.failures: list[str] = []
        self._prepare_token_variant()

    # Requests -----------------------------------------------------------------------------

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        environ = dict(self.environ, PATH_INFO=path, CONTENT_LENGTH=str(len(body)))
        environ["wsgi.input"] = io.BytesIO(body)
        return call_wsgi(self.app, environ)

    def audit_rows(self) -> int:
        from recognition.models import Verification

        return Verification.objects.count()

    def _prepare_token_variant(self) -> None:
        """What the registry read gives each token (done before timing): the
        token variant is parse + snapshot look-up + signature + claims."""
        from django.conf import settings
        from django.utils import timezone

        from identity.jose.tokens import parse_token
        from recognition.services.verification import VerificationRequest, subject_of
        from recognition.services.verify import decide
        from recognition.snapshots import current_policy, read_parties, registry_snapshot, wanted_of

        # The functions the token variant calls, looked up once.
        self.parse, self.wanted_of, self.subject_of, self.decide, self.now = (
            parse_token,
            wanted_of,
            subject_of,
            decide,
            timezone.now,
        )
        self.max_bytes = settings.REGISTRY["MAX_TOKEN_BYTES"]
        self.policy = current_policy()
        self.requests = [VerificationRequest(t.token, t.destination) for t in self.tokens]
        wanted = [wanted_of(parse_token(t.token, max_bytes=self.max_bytes)) for t in self.tokens]
        self.parties = []
        for start in range(0, len(wanted), BATCH_SIZE):
            stamp, parties = read_parties(wanted[start : start + BATCH_SIZE])
            self.parties += parties
        self.snapshot = registry_snapshot(stamp)

    # Variants: each takes an index and returns nothing; failures are noted ----------------

    def op(self, name: str) -> Callable[[int], None]:
        if name in PATHS:
            return lambda i: self._request(name, PATHS[name], self.bodies[i % len(self.bodies)])
        return {"token": self._token, "raw": self._raw, "jwt": self._jwt, "batch": self._batch}[name]

    def _request(self, name: str, path: str, body: bytes) -> None:
        status, content = self.post(path, body)
        if status != 200:
            self.failures.append(f"{name}: HTTP {status} {content[:200]!r}")
        elif name != "hello" and b'"decision":"accepted"' not in content:
            self.failures.append(f"{name}: not accepted {content[:300]!r}")

    def _token(self, i: int) -> None:
        n = i % len(self.tokens)
        request = self.requests[n]
        parsed = self.parse(request.token, max_bytes=self.max_bytes)
        subject = self.subject_of(request, self.wanted_of(parsed), self.parties[n], self.snapshot)
        if not self.decide(parsed=parsed, subject=subject, now=self.now(), policy=self.policy).accepted:
            self.failures.append("token: not accepted")

    def _raw(self, i: int) -> None:
        token = self.tokens[i % len(self.tokens)]
        token.public_key.verify(token.signature, token.signing_input)

    def _jwt(self, i: int) -> None:
        import jwt

        token = self.tokens[i % len(self.tokens)]
        jwt.decode(token.token, token.public_key, algorithms=["EdDSA"])

    def _batch(self, i: int) -> None:
        status, content = self.post(BATCH, self.batches[i % len(self.batches)])
        if status != 200 or content.count(b'"decision":"accepted"') != BATCH_SIZE:
            self.failures.append(f"batch: HTTP {status} {content[:200]!r}")

    # Commands -----------------------------------------------------------------------------

    def run(self, name: str, count: int) -> dict[str, Any]:
        op = self.op(name)
        audited = name in ("verify+audit", "batch")
        rows_before = self.audit_rows() if name in PATHS or audited else None
        backend = self._backend_pid() if name == "batch" else None
        db_cpu = cpu_seconds_of(backend) if backend else 0.0
        cpu = time.process_time()
        start = self.cursor[name]
        times = []
        for i in range(start, start + count):
            began = time.perf_counter_ns()
            op(i)
            times.append(time.perf_counter_ns() - began)
        cpu = time.process_time() - cpu
        db_cpu = (cpu_seconds_of(backend) - db_cpu) if backend else 0.0
        self.cursor[name] = start + count
        result = {
            "count": count,
            "median_us": statistics.median(times) / 1000,
            "p99_us": sorted(times)[int(0.99 * (len(times) - 1))] / 1000,
            "mean_us": statistics.fmean(times) / 1000,
        }
        if name == "batch":
            tokens = count * BATCH_SIZE
            result |= {"cpu_per_token_us": (cpu + db_cpu) / tokens * 1e6, "db_cpu_per_token_us": db_cpu / tokens * 1e6}
        if rows_before is not None:
            answers = count * (BATCH_SIZE if name == "batch" else 1) if audited else 0
            written = self.audit_rows() - rows_before
            self.counts[name] = self.counts.get(name, 0) + answers
            if written != answers:
                self.failures.append(f"{name}: {written} audit rows for {answers} answers")
        return result

    def _backend_pid(self) -> int | None:
        from django.db import connection

        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def calibrate(self, names: list[str], seconds: float) -> dict[str, int]:
        counts = {}
        for name in names:
            sample = 5 if name == "batch" else 30
            result = self.run(name, sample)
            counts[name] = max(sample, int(seconds * 1e6 / max(result["mean_us"], 1)))
        return counts

    def queries(self) -> dict[str, int]:
        """Queries of one warm verification and of one warm batch of 100."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        measured = {}
        for name, path, body in [
            ("single", VERIFY, self.bodies[0]),
            ("batch_of_100", BATCH, self.batches[0] if self.batches else self.bodies[0]),
        ]:
            self.post(path, body)  # warm
            with CaptureQueriesContext(connection) as captured:
                status, _ = self.post(path, body)
            measured[name] = len(captured)
            if status != 200:
                self.failures.append(f"queries: HTTP {status}")
        return measured

    def justify(self) -> dict[str, dict[str, float]]:
        """What each hand-written piece costs beside the spelling it replaces,
        on the same inputs (median microseconds)."""
        import pickle
        from array import array

        import jwt
        from django.db import connection, models, transaction

        from identity.jose.tokens import parse_token
        from recognition.models import Verification
        from recognition.services import audit
        from recognition.services.verification import audit_entry, decide_all
        from recognition.snapshots import read_parties, wanted_of
        from tests.support import reference

        tokens = [t.token for t in self.tokens[:200]]
        wanted = [wanted_of(parse_token(t, max_bytes=self.max_bytes)) for t in tokens]
        history = [time.time()] * 6000
        packed = array("d", history)
        rows = audit.chain_rows(
            [audit_entry("bench", item) for item in decide_all(self.requests[:1], now=self.snapshot_time())],
            at=self.snapshot_time(),
            seq=10**12,
            prev_hash=audit.GENESIS,
        )

        values = {f.attname: getattr(rows[0], f.attname) for f in Verification._meta.concrete_fields}

        def inserted(insert: Callable[[list[Any]], Any]) -> Callable[[int], None]:
            # A batch's 100 rows of their own (id, seq, hash), inside one
            # transaction rolled back at the end: the INSERT alone is timed.
            def run(i: int) -> None:
                batch = []
                for _ in range(BATCH_SIZE):
                    seq = next(numbers)
                    batch.append(Verification(**dict(values, id=uuid.uuid4(), seq=seq, hash=f"{seq:064x}")))
                began = time.perf_counter_ns()
                insert(batch)
                spent[0] += time.perf_counter_ns() - began

            return run

        spent = [0]

        numbers = iter(range(10**12, 10**13))

        head = "SELECT seq, hash FROM recognition_verification ORDER BY seq DESC LIMIT 1"
        lock = "SELECT pg_advisory_xact_lock(5067346)"

        def head_apart(i: int) -> None:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(lock)
                cursor.execute(head)
                cursor.fetchone()

        def head_together(i: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"{lock}; {head}" if connection.vendor == "postgresql" else head)
                cursor.fetchone()

        from recognition.api import verifications  # noqa: F401 (DRF's settings import the parser from serializers)
        from recognition.api.serializers import (
            RequestObjectSerializer,
            VerificationRequestSerializer,
            well_formed_request,
        )

        bodies = [json.loads(body) for body in self.bodies[:200]]

        def fields_validate(i: int) -> None:
            data = bodies[i % 200]
            RequestObjectSerializer.run_validation(VerificationRequestSerializer(data=data), data)

        pairs = {
            "request validation": (fields_validate, lambda i: well_formed_request(bodies[i % 200])),
            "token parsing": (
                lambda i: reference.parse_token(tokens[i % 200], max_bytes=self.max_bytes),
                lambda i: parse_token(tokens[i % 200], max_bytes=self.max_bytes),
                lambda i: jwt.decode(tokens[i % 200], options={"verify_signature": False}),
            ),
            "merchant and credential look-up": (
                lambda i: reference.party(wanted[i % 200]),
                lambda i: read_parties([wanted[i % 200]]),
            ),
            "audit INSERT, a row of a batch of 100": (
                inserted(lambda objs: models.QuerySet(Verification).bulk_create(objs)),
                inserted(lambda objs: Verification.objects.bulk_create(objs)),
            ),
            "chain lock and head read": (head_apart, head_together),
            "throttle history of 6,000 requests": (
                lambda i: pickle.loads(pickle.dumps(history, pickle.HIGHEST_PROTOCOL)),  # noqa: S301 (our own data)
                lambda i: pickle.loads(pickle.dumps(packed, pickle.HIGHEST_PROTOCOL)),  # noqa: S301
            ),
        }
        measured = {}
        with transaction.atomic():
            for name, spellings in pairs.items():
                batched = name.startswith("audit INSERT")
                times: list[list[float]] = [[] for _ in spellings]
                for i in range(30 if batched else 300):
                    for which, spelling in enumerate(spellings):
                        began, spent[0] = time.perf_counter_ns(), 0
                        spelling(i)
                        elapsed = spent[0] / BATCH_SIZE if batched else time.perf_counter_ns() - began
                        times[which].append(elapsed)
                labels = ["library_us", "hand_written_us", "pyjwt_us"]
                measured[name] = {labels[n]: statistics.median(t) / 1000 for n, t in enumerate(times)}
            transaction.set_rollback(True)
        return measured

    def snapshot_time(self) -> Any:
        from django.utils import timezone

        return timezone.now()

    def gates(self) -> dict[str, Any]:
        from recognition.services.audit import check_chain

        rows = self.audit_rows()
        status, content = self.post(VERIFY, self.bad.body())
        answer = json.loads(content) if status == 200 else {}
        codes = [reason["code"] for reason in answer.get("reasons", [])]
        tampered_ok = status == 200 and answer.get("decision") == "rejected" and codes == ["invalid_signature"]
        recorded = self.audit_rows() == rows + 1
        report = check_chain()
        return {
            "tampered_rejected": tampered_ok and recorded,
            "tampered_codes": codes,
            "chain_intact": report.intact,
            "audit_rows": report.records,
            "failures": self.failures[:20],
            "failure_count": len(self.failures),
        }

    def write_bodies(self, directory: str) -> dict[str, Any]:
        path = Path(directory) / f"bodies-{os.getpid()}.txt"
        path.write_bytes(b"\n".join(self.bodies) + b"\n")
        from django.db import connections

        connections.close_all()
        return {"bodies": str(path), "api_key": self.api_key}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merchants", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    worker = Worker(args.merchants, args.tokens, args.seed)
    send({"ready": True, "timings": worker.timings})
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "calibrate":
            send({"counts": worker.calibrate(command["names"], command["seconds"])})
        elif op == "round":
            send({"results": {name: worker.run(name, count) for name, count in command["plan"]}})
        elif op == "queries":
            send({"queries": worker.queries()})
        elif op == "justify":
            send({"justify": worker.justify()})
        elif op == "gates":
            send({"gates": worker.gates()})
        elif op == "bodies":
            send(worker.write_bodies(command["directory"]))
        elif op == "audit_rows":
            send({"audit_rows": worker.audit_rows()})
        elif op == "stop":
            send({"stopped": True})
            return


if __name__ == "__main__":
    main()
