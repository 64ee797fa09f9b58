"""A witness for tests (C2SP tlog-witness add-checkpoint, server side): an
HTTP server on 127.0.0.1 in a thread, keeping the size and root it last
cosigned per log in memory and answering as the specification says (400,
403, 404, 409 with text/x.tlog.size, 422, 200 with a cosignature/v1 line).

`TestWitness.misbehave` makes it answer otherwise: a fixed status, a
cosignature that does not verify, one by an unknown key, or a sleep before
answering. The fixtures yield what the registry needs to know of a witness,
(url, vkey), so that the same tests can run against the witness a partner
runs."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recognition.log import tree
from recognition.log.notes import (
    COSIGNATURE_V1,
    NoteError,
    cosignature_line,
    parse_checkpoint,
    parse_vkey,
    verify_note,
    vkey,
)
from recognition.log.witnessing import SIZE_MEDIA_TYPE, parse_request, size_body

PATH = "/add-checkpoint"


@dataclass
class Misbehaviour:
    status: int | None = None  # answer this status (with `body`) instead
    body: bytes = b""
    sleep: float = 0.0  # before answering
    bad_signature: bool = False  # a cosignature whose signature bytes are flipped
    unknown_key: bool = False  # cosign with a key the registry does not know


@dataclass
class TestWitness:
    name: str
    log_vkeys: list[str]
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    state: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # origin -> (size, root)
    misbehave: Misbehaviour = field(default_factory=Misbehaviour)
    requests: list[int] = field(default_factory=list)  # the old size of each request
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)  # ends a sleep early

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.key.public_key().public_bytes_raw(), COSIGNATURE_V1)

    def answer(self, body: bytes) -> tuple[int, str, bytes]:
        if self.misbehave.sleep:
            self.released.wait(self.misbehave.sleep)
        if self.misbehave.status is not None:
            return self.misbehave.status, "text/plain", self.misbehave.body
        try:
            request = parse_request(body)
        except NoteError as exc:
            return 400, "text/plain", str(exc).encode()
        with self.lock:  # check and update atomically (tlog-witness: the race it names)
            self.requests.append(request.old_size)
            return self._add(request)

    def _add(self, request: object) -> tuple[int, str, bytes]:
        text = request.note[: request.note.rfind("\n\n") + 1]
        checkpoint = parse_checkpoint(text)
        verifiers = [parse_vkey(v) for v in self.log_vkeys if v.split("+", 1)[0] == checkpoint.origin]
        if not verifiers:
            return 404, "text/plain", b"unknown log"
        try:
            verify_note(request.note, verifiers)
        except NoteError as exc:
            return 403, "text/plain", str(exc).encode()
        if request.old_size > checkpoint.size:
            return 400, "text/plain", b"old size is beyond the checkpoint"
        size, root = self.state.get(checkpoint.origin, (0, b""))
        if request.old_size != size:
            return 409, SIZE_MEDIA_TYPE, size_body(size)
        if size == checkpoint.size and size and root != checkpoint.root:
            return 409, SIZE_MEDIA_TYPE, size_body(size)
        if 0 < size < checkpoint.size and not tree.verify_consistency(
            size, checkpoint.size, root, checkpoint.root, list(request.proof)
        ):
            return 422, "text/plain", b"the consistency proof does not verify"
        self.state[checkpoint.origin] = (checkpoint.size, checkpoint.root)
        return 200, "text/plain; charset=utf-8", self._cosign(text).encode()

    def _cosign(self, text: str) -> str:
        key = Ed25519PrivateKey.generate() if self.misbehave.unknown_key else self.key
        line = cosignature_line(text, self.name, key, int(time.time()))
        if self.misbehave.bad_signature:
            head, _, signature = line[:-1].rpartition(" ")
            flipped = signature[:-6] + ("AAAAAA" if signature[-6:] != "AAAAAA" else "BBBBBB")
            line = f"{head} {flipped}\n"
        return line


def _handler(witness: TestWitness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            if self.path != PATH:
                status, media_type, body = 404, "text/plain", b"not found"
            else:
                length = int(self.headers.get("Content-Length") or 0)
                status, media_type, body = witness.answer(self.rfile.read(length))
            try:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the registry gave up waiting (its timeout)
                pass

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler


@dataclass
class RunningWitness:
    url: str
    witness: TestWitness
    stop: Callable[[], None]


def start_witness(name: str, log_vkeys: list[str]) -> RunningWitness:
    """A test witness listening on 127.0.0.1 (a free port), in a thread."""
    witness = TestWitness(name=name, log_vkeys=log_vkeys)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(witness))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"test-witness-{name}", daemon=True)
    thread.start()

    def stop() -> None:
        witness.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)

    return RunningWitness(f"http://127.0.0.1:{server.server_address[1]}", witness, stop)
