"""One database's side of `make bench-audit`, in a process of its own
(Django is set up once per process, for one DATABASE_URL).

It migrates its throwaway database, loads the audit log (tests.support.audit_rows),
creates a regulator key, then times the pages the parent asks for through
the WSGI handler (the one gunicorn calls), with the production middleware,
authentication, throttle and renderer. One JSON command a line on stdin,
one JSON answer a line on stdout.
"""

import argparse
import base64
import hashlib
import json
import sys
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from bench.worker import call_wsgi, send, wsgi_environ

LIST = "/api/v1/audit/verifications/"
Key = tuple[datetime, UUID]  # where a row stands in the log's time order


class PageWorker:
    def __init__(self, rows: int, rare: int, seed: int) -> None:
        import django

        django.setup()
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application

        from accounts.services import api_key_create
        from recognition.api.pagination import PAGE_SIZE
        from tests.support import audit_rows

        self.rows = rows
        self.timings: dict[str, float] = {}
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        self.timings["migrate_s"] = time.perf_counter() - started
        started = time.perf_counter()
        audit_rows.load(rows, rare, seed)
        self.timings["load_s"] = time.perf_counter() - started
        _, key = api_key_create(name="bench-regulator", role="regulator")
        self.cases = audit_rows.cases(rows, rare)
        started = time.perf_counter()
        self.positions = {name: self._positions(query, PAGE_SIZE) for name, query in self.cases.items()}
        self.timings["positions_s"] = time.perf_counter() - started
        self.app = get_wsgi_application()
        self.environ = wsgi_environ(key, "GET", PATH_INFO=LIST)
        self.failures: list[str] = []

    def get(self, query: dict[str, str]) -> tuple[int, bytes]:
        return call_wsgi(self.app, dict(self.environ, QUERY_STRING=urlencode(query)))

    def _positions(self, query: dict[str, str], page_size: int) -> dict[str, tuple[str | None, list[tuple]]]:
        """Where each timed page starts (the cursor of the row before it,
        None for the first page) and the rows it must show, as (id, seq,
        leaf hash): the first page, the page after the middle matching row
        and the last full page, found by a plain query (the filters'
        conditions, ORDER BY created_at, id and an OFFSET: no keyset)."""
        from recognition.api import filters
        from recognition.models import LogEntry, Verification
        from tests.support.audit_rows import cursor

        params = filters.AuditFilter(data=query)
        params.is_valid(raise_exception=True)
        given = params.validated_data
        rows = Verification.objects.filter(
            **{name: given[name] for name in ("destination", "origin", "issuer", "decision") if name in given}
        )
        if "reason" in given:
            rows = filters.with_reason(rows, given["reason"])
        if "since" in given:
            rows = rows.filter(created_at__gte=given["since"])
        if "until" in given:
            rows = rows.filter(created_at__lt=given["until"])
        ordered = rows.order_by("created_at", "id").values_list("created_at", "id")
        count = ordered.count()

        def shown(keys: list[Key]) -> list[tuple]:
            entries = {
                id: (seq, base64.b64encode(bytes(leaf)).decode("ascii"))
                for id, seq, leaf in LogEntry.objects.filter(id__in=[id for _, id in keys]).values_list(
                    "id", "seq", "leaf_hash"
                )
            }
            return [(str(id), *entries[id]) for _, id in keys]

        if count < 2:  # nothing to page through: the cursors stand in the log's middle and end
            matching = list(ordered)
            log = Verification.objects.order_by("created_at", "id").values_list("created_at", "id")
            keys: dict[str, Key | None] = {
                "first": None,
                "middle": log[self.rows // 2],
                "last": log[self.rows - page_size],
            }
            pages = {
                name: [row for row in matching if key is None or row > key][:page_size] for name, key in keys.items()
            }
        else:
            last_full = max(count - page_size, 1)
            starts = {"first": 0, "middle": count // 2, "last": last_full}
            keys = {name: None if start == 0 else ordered[start - 1] for name, start in starts.items()}
            pages = {name: list(ordered[start : start + page_size]) for name, start in starts.items()}
        return {name: (None if keys[name] is None else cursor(*keys[name]), shown(pages[name])) for name in keys}

    def page(self, case: str, position: str, repeat: int) -> dict[str, Any]:
        """The fastest of `repeat` requests for one page of one case (on a
        shared machine other processes only ever add time)."""
        query = self.cases[case]
        at, expected = self.positions[case][position]
        if at is not None:
            query = {**query, "cursor": at}
        times = []
        for _ in range(repeat):
            began = time.perf_counter_ns()
            status, content = self.get(query)
            times.append(time.perf_counter_ns() - began)
        if status != 200:
            self.failures.append(f"{case}, {position} page: HTTP {status} {content[:200]!r}")
        else:
            shown = json.loads(content)["results"]
            if [(row["id"], row["seq"], row["leaf_hash"]) for row in shown] != expected:
                self.failures.append(f"{case}, {position} page: not the rows a plain query finds")
            elif any(leaf_hash(row["entry"]) != row["leaf_hash"] for row in shown):
                self.failures.append(f"{case}, {position} page: a leaf hash that is not its entry's")
        return {"ms": min(times) / 1e6, "rows": len(expected)}


def leaf_hash(entry: str) -> str:
    return base64.b64encode(hashlib.sha256(b"\x00" + entry.encode("utf-8")).digest()).decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--rare", type=int, required=True)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    worker = PageWorker(args.rows, args.rare, args.seed)
    send({"ready": True, "timings": worker.timings})
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "round":
            send({"results": [worker.page(case, position, repeat) for case, position, repeat in command["plan"]]})
        elif command["op"] == "cases":
            send({"cases": worker.cases})
        elif command["op"] == "failures":
            send({"failures": worker.failures[:20], "failure_count": len(worker.failures)})
        elif command["op"] == "stop":
            send({"stopped": True})
            return


if __name__ == "__main__":
    main()
