"""The witness over HTTP/1.1 (stdlib ThreadingHTTPServer, keep-alive): POST
/add-checkpoint, every other path 404, every other method 405, a body over
the request limit 413 before it is read. Answers are plain text, one line;
no traceback reaches a client.

Threads are daemons, so a stop does not wait for a slow client; a request
cut off mid-way leaves the state as it was, since its update is one SQLite
transaction (witness/state.py). SIGTERM stops the server as Ctrl-C does.
"""

import logging
import signal
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from recognition.log.witnessing import MAX_REQUEST_BYTES, PATH
from witness.server import TEXT, Answer, Witness

logger = logging.getLogger("witness")

IDLE_SECONDS = 60  # a keep-alive connection left idle this long is closed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "witness"
    sys_version = ""
    timeout = IDLE_SECONDS
    error_content_type = TEXT
    error_message_format = "%(message)s\n"
    server: "WitnessServer"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path != PATH:
            self._answer(_text(404, f"no such path: the witness answers POST {PATH}"), close=True)
            return
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None:
            self._answer(_text(411, "the request needs a Content-Length"), close=True)
            return
        if not length.isdigit():
            self._answer(_text(400, f"the Content-Length {length[:40]!r} is not a number"), close=True)
            return
        if int(length) > MAX_REQUEST_BYTES:
            reason = f"the request is {int(length)} bytes, over the limit of {MAX_REQUEST_BYTES}"
            logger.warning("refused a request (413): %s", reason)
            self._answer(_text(413, reason), close=True)
            return
        body = self.rfile.read(int(length))
        try:
            answer = self.server.witness.add_checkpoint(body)
        except Exception:
            logger.exception("the witness failed on a request")
            answer = _text(500, "the witness failed on this request; its operator has the details in its log")
        self._answer(answer)

    def _other_method(self) -> None:
        if urlsplit(self.path).path != PATH:
            self._answer(_text(404, f"no such path: the witness answers POST {PATH}"), close=True)
        else:
            self._answer(_text(405, f"{PATH} takes POST only"), allow="POST", close=True)

    do_GET = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other_method  # noqa: N815

    def _answer(self, answer: Answer, *, close: bool = False, allow: str | None = None) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if allow:
            self.send_header("Allow", allow)
        if close:
            # The body was not read: the connection cannot carry another request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        logger.debug("%s %s", self.address_string(), format % args)


def _text(status: int, reason: str) -> Answer:
    return Answer(status, TEXT, f"{reason}\n".encode())


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    witness: Witness  # set once the witness has started, before serving

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.warning("a connection from %s failed", client_address[0], exc_info=True)


class _Stop(Exception):
    pass


def _stop(signum: int, frame: Any) -> None:
    raise _Stop


def serve(server: WitnessServer, on_ready: Callable[[], None] = lambda: None) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the listening socket."""
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        on_ready()
        server.serve_forever()
    except (KeyboardInterrupt, _Stop):
        logger.info("the witness stops")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
