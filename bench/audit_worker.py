"""One database's side of `make bench-audit`, in a process of its own
(Django is set up once per process, for one DATABASE_URL).

It migrates its throwaway database, loads the audit log (tests.support.audit_rows),
creates a regulator key, then times the pages the parent asks for through
the WSGI handler (the one gunicorn calls), with the production middleware,
authentication, throttle and renderer. One JSON command a line on stdin,
one JSON answer a line on stdout.
"""

import argparse
import bisect
import json
import sys
import time
from base64 import b64encode
from typing import Any
from urllib.parse import urlencode

from bench.worker import call_wsgi, send, wsgi_environ

LIST = "/api/v1/audit/verifications/"


def cursor_at(seq: int) -> str:
    """The cursor of a `next` link whose page ended at row `seq` (DRF's
    encoding: base64 of the query string `p=<position>`)."""
    return b64encode(f"p={seq}".encode()).decode()


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

    def _positions(self, query: dict[str, str], page_size: int) -> dict[str, tuple[int | None, list[int]]]:
        """Where each timed page starts (the cursor's row, None for the first
        page) and the rows it must show: the first page, the page from the
        middle of the matching rows and the last full page, found by a plain
        query (created_at conditions, no seq bounds)."""
        from recognition.api import filters
        from recognition.models import Verification

        params = filters.AuditFilter(data=query)
        params.is_valid(raise_exception=True)
        given = params.validated_data
        rows = Verification.objects.filter(
            **{name: given[name] for name in ("destination", "origin", "issuer", "decision") if name in given}
        )
        if "reason" in given:
            rows = filters._with_reason(rows, given["reason"])
        if "since" in given:
            rows = rows.filter(created_at__gte=given["since"])
        if "until" in given:
            rows = rows.filter(created_at__lt=given["until"])
        seqs = list(rows.order_by("seq").values_list("seq", flat=True))
        if len(seqs) < 2:  # nothing to page through: the cursors stand in the log's middle and end
            cursors = {"first": None, "middle": self.rows // 2, "last": self.rows - page_size}
        else:
            last_full = max(len(seqs) - page_size, 1)
            cursors = {"first": None, "middle": seqs[len(seqs) // 2 - 1], "last": seqs[last_full - 1]}

        def page_after(after: int | None) -> list[int]:
            start = 0 if after is None else bisect.bisect_right(seqs, after)
            return seqs[start : start + page_size]

        return {name: (after, page_after(after)) for name, after in cursors.items()}

    def page(self, case: str, position: str, repeat: int) -> dict[str, Any]:
        """The fastest of `repeat` requests for one page of one case (on a
        shared machine other processes only ever add time)."""
        query = self.cases[case]
        after, expected = self.positions[case][position]
        if after is not None:
            query = {**query, "cursor": cursor_at(after)}
        times = []
        for _ in range(repeat):
            began = time.perf_counter_ns()
            status, content = self.get(query)
            times.append(time.perf_counter_ns() - began)
        if status != 200:
            self.failures.append(f"{case}, {position} page: HTTP {status} {content[:200]!r}")
        elif [row["seq"] for row in json.loads(content)["results"]] != expected:
            self.failures.append(f"{case}, {position} page: not the rows a plain query finds")
        return {"ms": min(times) / 1e6, "rows": len(expected)}


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
