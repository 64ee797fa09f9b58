"""One database's side of the benchmark, in a process of its own (Django is
set up once per process, for one DATABASE_URL).

The parent (bench.run) sends one JSON command a line; the worker answers one
JSON line on stdout. It migrates and fills its throwaway database, then runs
the in-process variants the parent asks for, round after round, calling the
WSGI handler directly (the same handler gunicorn calls).
"""

import argparse
import base64
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERIFY = "/api/v1/verifications/"
BATCH = "/api/v1/verifications/batch/"
PATHS = {"hello": "/bench/hello/", "verify": "/bench/verifications/", "verify+audit": VERIFY}
TRUST_LIST = "/api/v1/trust-lists/{country}/"
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
    def __init__(self, merchants: int, token_count: int, seed: int, log_entries: int = 0) -> None:
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
        # The log the proofs are asked of: decisions already integrated,
        # signed by a checkpoint (dataset.load_log).
        started = time.perf_counter()
        parts = dataset.load_log(
            log_entries, authorities=self.authorities, merchants=merchants, now=now, integrated=True
        )
        self.timings["log_s"] = time.perf_counter() - started
        self.timings |= {f"log_{name}": value for name, value in parts.items()}
        self.log_entries = log_entries
        _, self.api_key = api_key_create(name=dataset.LOG_CLIENT, role="platform")
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
        names = (
            "hello",
            "verify",
            "verify+audit",
            "token",
            "package",
            "raw",
            "jwt",
            "batch",
            "proof",
            "trust-list-304",
        )
        self.cursor = dict.fromkeys(names, 0)
        # The trust list of the country the first token is presented in (its
        # own authorities and the foreign ones its agreements recognize).
        self.country = self.tokens[0].destination
        self.trust_list = TRUST_LIST.format(country=self.country)
        self.etag: str | None = None
        self.proof_ids = self._proof_ids(seed)
        self.counts: dict[str, int] = {}
        self.failures: list[str] = []
        self._prepare_token_variant()
        self._prepare_package_variant()

    # Requests -----------------------------------------------------------------------------

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        environ = dict(self.environ, PATH_INFO=path, CONTENT_LENGTH=str(len(body)))
        environ["wsgi.input"] = io.BytesIO(body)
        return call_wsgi(self.app, environ)

    def get(self, path: str) -> tuple[int, bytes]:
        environ = dict(self.environ, REQUEST_METHOD="GET", PATH_INFO=path, QUERY_STRING="", CONTENT_LENGTH="0")
        environ.pop("CONTENT_TYPE", None)
        return call_wsgi(self.app, environ)

    def get_public(self, path: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
        """A public GET as a reader sends it (no API key): status, body, headers."""
        environ = wsgi_environ("", "GET", PATH_INFO=path, QUERY_STRING="", CONTENT_LENGTH="0", **headers)
        del environ["HTTP_AUTHORIZATION"]
        found: list[Any] = []
        response = self.app(environ, lambda line, head, exc_info=None: found.extend((line, dict(head))))
        try:
            content = b"".join(response)
        finally:
            response.close()
        return int(found[0][:3]), content, found[1]

    def _proof_ids(self, seed: int, count: int = 500) -> list[str]:
        """Entries of the preloaded log spread over all of it, in a random order."""
        import random

        from recognition.models import LogEntry

        if not self.log_entries:
            return []
        rng = random.Random(seed)
        seqs = [rng.randrange(self.log_entries) for _ in range(count)]
        ids = dict(LogEntry.objects.filter(seq__in=seqs).values_list("seq", "id"))
        return [str(ids[seq]) for seq in seqs]

    def audit_rows(self) -> int:
        """Decision entries in the log (each written with its Verification row)."""
        from recognition.models import LogEntry

        return LogEntry.objects.filter(kind="decision").count()

    def _prepare_token_variant(self) -> None:
        """What the registry read gives each token (done before timing): the
        token variant is parse + snapshot look-up + signature + claims."""
        from django.conf import settings
        from django.utils import timezone

        from merchant_verifier.decide import decide
        from merchant_verifier.tokens import parse_token
        from recognition.services.verification import VerificationRequest, subject_of
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

    def _prepare_package_variant(self) -> None:
        """The lists saved to a directory and an offline verifier of each
        destination, warmed with every token (bench/offline.py)."""
        import tempfile

        from bench import offline

        self.lists_directory = tempfile.TemporaryDirectory(prefix="bench-lists-")
        directory = Path(self.lists_directory.name)
        origins = {authority.country for authority in self.authorities}
        offline.save_lists(directory, {t.destination for t in self.tokens}, origins)
        verifiers = offline.verifiers(directory, self.tokens)
        self.package = [(verifiers[t.destination].verify, t.token) for t in self.tokens]

    # Variants: each takes an index and returns nothing; failures are noted ----------------

    def op(self, name: str) -> Callable[[int], None]:
        if name in PATHS:
            return lambda i: self._request(name, PATHS[name], self.bodies[i % len(self.bodies)])
        return {
            "token": self._token,
            "package": self._package,
            "raw": self._raw,
            "jwt": self._jwt,
            "batch": self._batch,
            "proof": self._proof,
            "trust-list-304": self._trust_list_304,
        }[name]

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

    def _package(self, i: int) -> None:
        verify, token = self.package[i % len(self.package)]
        if not verify(token).accepted:
            self.failures.append("package: not accepted")

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

    def _trust_list_304(self, i: int) -> None:
        """GET the trust list with the ETag of the copy held: a 304, no body."""
        if self.etag is None:  # a reader's first fetch (in the calibration, before any timed round)
            self.etag = self.get_public(self.trust_list)[2]["ETag"]
        status, content, _ = self.get_public(self.trust_list, HTTP_IF_NONE_MATCH=self.etag)
        if status != 304 or content:
            self.failures.append(f"trust-list-304: HTTP {status} {content[:200]!r}")

    def _proof(self, i: int) -> None:
        """GET an entry's inclusion proof (the key that made the decision),
        through the WSGI handler; every 50th is checked against its
        checkpoint's root."""
        entry_id = self.proof_ids[i % len(self.proof_ids)]
        status, content = self.get(f"/api/v1/audit/log/entries/{entry_id}/proof")
        if status != 200:
            self.failures.append(f"proof: HTTP {status} {content[:200]!r}")
        elif i % 50 == 0 and not proof_holds(json.loads(content)):
            self.failures.append(f"proof: the proof of {entry_id} does not verify")

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

        from merchant_verifier.tokens import parse_token
        from recognition.db import insert_together
        from recognition.log.keys import log_key
        from recognition.log.receipts import RECEIPT_TYP, sign_receipt
        from recognition.models import LogEntry, Verification
        from recognition.services import audit
        from recognition.services.verification import audit_entry, decide_all
        from recognition.snapshots import read_parties, wanted_of
        from tests.support import reference

        tokens = [t.token for t in self.tokens[:200]]
        wanted = [wanted_of(parse_token(t, max_bytes=self.max_bytes)) for t in tokens]
        history = [time.time()] * 6000
        packed = array("d", history)
        decided = [audit_entry("bench", item) for item in decide_all(self.requests[:1], now=self.snapshot_time())]
        spent = [0]

        def inserted(insert: Callable[[list[Any], list[Any]], Any]) -> Callable[[int], None]:
            # A batch's 100 decisions (an entry and a row each, ids of their
            # own), inside one transaction rolled back at the end: the
            # INSERTs alone are timed.
            def run(i: int) -> None:
                rows, entries = audit.build(decided * BATCH_SIZE, at=self.snapshot_time())
                logged = audit._log_rows(entries)
                began = time.perf_counter_ns()
                insert(logged, rows)
                spent[0] += time.perf_counter_ns() - began

            return run

        def bulk_create(logged: list[Any], rows: list[Any]) -> None:
            models.QuerySet(LogEntry).bulk_create(logged)
            models.QuerySet(Verification).bulk_create(rows)

        key = log_key()
        _, entries = audit.build(decided, at=self.snapshot_time())
        headers = {"kid": key.key_id.hex(), "typ": RECEIPT_TYP}

        def pyjwt_receipt(i: int) -> str:
            entry = entries[0]
            leaf_hash = base64.b64encode(entry.leaf_hash).decode("ascii")
            payload = {"iss": key.name, "id": str(entry.id), "leaf_hash": leaf_hash, "iat": int(time.time())}
            return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)

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
            "log entry and row INSERT, a decision of a batch of 100": (
                inserted(bulk_create),
                inserted(lambda logged, rows: insert_together(connection, [(LogEntry, logged), (Verification, rows)])),
            ),
            "receipt (JWS, EdDSA)": (
                pyjwt_receipt,
                lambda i: sign_receipt(key, entries[0], iat=int(time.time())),
            ),
            "throttle history of 6,000 requests": (
                lambda i: pickle.loads(pickle.dumps(history, pickle.HIGHEST_PROTOCOL)),  # noqa: S301 (our own data)
                lambda i: pickle.loads(pickle.dumps(packed, pickle.HIGHEST_PROTOCOL)),  # noqa: S301
            ),
        }
        measured = {}
        with transaction.atomic():
            for name, spellings in pairs.items():
                batched = "INSERT" in name
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
        from recognition.log.integrator import integrate_all
        from recognition.log.integrity import check_log
        from recognition.models import LogEntry, Verification

        rows = self.audit_rows()
        status, content = self.post(VERIFY, self.bad.body())
        answer = json.loads(content) if status == 200 else {}
        codes = [reason["code"] for reason in answer.get("reasons", [])]
        tampered_ok = status == 200 and answer.get("decision") == "rejected" and codes == ["invalid_signature"]
        recorded = self.audit_rows() == rows + 1 and LogEntry.objects.filter(id=answer.get("id")).exists()
        # Everything written during the run placed in the tree, then the
        # whole log checked from its bytes (leaves, tiles, checkpoints).
        integrate_all()
        report = check_log()
        entries = LogEntry.objects.count()
        return {
            "tampered_rejected": tampered_ok and recorded,
            "tampered_codes": codes,
            "log_intact": report.intact,
            "log_problem": report.problem,
            "log_size": report.size,
            "log_entries": entries,
            "decision_entries": self.audit_rows(),
            "decision_rows": Verification.objects.count(),
            "pending": LogEntry.objects.filter(seq__isnull=True).count(),
            "failures": self.failures[:20],
            "failure_count": len(self.failures),
        }

    def integrator(self, backlog: int) -> dict[str, Any]:
        """Leaves a second the integrator places, in this process, from a
        backlog of `backlog` pending decisions loaded beforehand."""
        from django.utils import timezone

        from bench import dataset
        from recognition.log.integrator import BATCH, integrate_all
        from recognition.models import LogEntry

        integrate_all()  # nothing else pending
        loaded = time.perf_counter()
        dataset.load_log(
            backlog, authorities=self.authorities, merchants=self.merchants, now=timezone.now(), integrated=False
        )
        loaded = time.perf_counter() - loaded
        pending = LogEntry.objects.filter(seq__isnull=True).count()
        cpu, began = time.process_time(), time.perf_counter()
        done = integrate_all()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        return {
            "backlog": pending,
            "placed": done.placed,
            "seconds": seconds,
            "cpu_s": cpu,
            "leaves_per_s": done.placed / seconds,
            "batch": BATCH,
            "load_s": loaded,
            "size": done.size,
        }

    def integrate(self) -> int:
        from recognition.log.integrator import integrate_all

        return integrate_all().placed

    def lag(self, since: float, wait: float) -> dict[str, Any]:
        """Integration lag of the decisions written since `since` (a UNIX
        time) by the servers: the time from an entry's created_at to the
        created_at of the first checkpoint whose size covers it. Waits up to
        `wait` seconds for the integrators to place and sign everything."""
        from datetime import UTC, datetime

        from django.db.models import OuterRef, Subquery

        from recognition.models import Checkpoint, LogEntry

        start = datetime.fromtimestamp(since, tz=UTC)
        written = LogEntry.objects.filter(kind="decision", created_at__gte=start)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            last = written.exclude(seq__isnull=True).order_by("-seq").values_list("seq", flat=True).first()
            covered = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0
            if not written.filter(seq__isnull=True).exists() and (last is None or covered > last):
                break
            time.sleep(0.2)
        first_cover = Checkpoint.objects.filter(size__gt=OuterRef("seq")).order_by("size").values("created_at")[:1]
        pairs = written.annotate(published=Subquery(first_cover)).values_list("created_at", "published")
        lags = sorted((published - created).total_seconds() for created, published in pairs if published)
        unpublished = written.count() - len(lags)
        if not lags:
            return {"entries": 0, "unpublished": unpublished}
        return {
            "entries": len(lags),
            "unpublished": unpublished,
            "p50_s": statistics.median(lags),
            "p99_s": lags[int(0.99 * (len(lags) - 1))],
            "max_s": lags[-1],
            "checkpoints": Checkpoint.objects.filter(created_at__gte=start).count(),
        }

    def write_bodies(self, directory: str) -> dict[str, Any]:
        path = Path(directory) / f"bodies-{os.getpid()}.txt"
        path.write_bytes(b"\n".join(self.bodies) + b"\n")
        from django.db import connections

        connections.close_all()
        return {"bodies": str(path), "api_key": self.api_key, "country": self.country}


def proof_holds(answer: dict[str, Any]) -> bool:
    """The inclusion proof leads from the entry's bytes to the checkpoint's root."""
    from recognition.log import tree

    root = base64.b64decode(answer["checkpoint"].split("\n")[2])
    proof = [base64.b64decode(item) for item in answer["inclusion"]]
    leaf = tree.leaf_hash(answer["entry"].encode("utf-8"))
    return tree.verify_inclusion(answer["seq"], answer["size"], leaf, proof, root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merchants", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--log-entries", type=int, default=0, help="decisions already in the log, integrated")
    args = parser.parse_args()
    worker = Worker(args.merchants, args.tokens, args.seed, args.log_entries)
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
        elif op == "integrator":
            send({"integrator": worker.integrator(command["backlog"])})
        elif op == "integrate":
            send({"integrated": worker.integrate()})
        elif op == "lag":
            send({"lag": worker.lag(command["since"], command.get("wait", 60.0))})
        elif op == "audit_rows":
            send({"audit_rows": worker.audit_rows()})
        elif op == "stop":
            send({"stopped": True})
            return


if __name__ == "__main__":
    main()
