"""A real HTTP/1.1 server on 127.0.0.1 (free port) in background threads.

Requests are routed by path to handlers (``Request -> Reply``).  Each request is served on
its own thread, so a deliberately slow answer holds up nobody else, and connections are
kept alive like a production server's.  :class:`Script` puts scripted answers (503s, slow
answers, dropped connections) in front of a handler, for "fails for a while, then recovers".
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.support.served import free_port


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    peer_port: int  # the client's port: the same port means the same (kept-alive) connection
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, text: str, status: int = 200) -> Reply:
        return cls(status, text.encode(), {"Content-Type": "application/json"})


Handler = Callable[[Request], Reply]


def refused_url(path: str = "/") -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    return f"http://127.0.0.1:{free_port()}{path}"


class Script:
    """Answers with ``replies`` in order, one per request, then delegates to ``handler``."""

    def __init__(self, handler: Handler, replies: Iterable[Reply] = ()) -> None:
        self.handler = handler
        self._replies = deque(replies)
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            scripted = self._replies.popleft() if self._replies else None
        return scripted if scripted is not None else self.handler(request)

    def then(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)


class LoopbackServer:
    """``with LoopbackServer({"/hook": handler}) as server: server.url("/hook")``."""

    def __init__(self, routes: Mapping[str, Handler], *, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        """``port``: 0 for a free one; a given port lets a test start the server where a
        subscription already points (an endpoint that refused connections comes up).
        ``tls``: serve HTTPS with this server context (see :mod:`.tls`)."""
        self.routes = dict(routes)
        self.requests: list[Request] = []
        self._changed = threading.Condition()
        self._server = _QuietServer(("127.0.0.1", port), _handler_class(self))
        self._scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-server", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, path: str) -> list[Request]:
        with self._changed:
            return [request for request in self.requests if request.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Request]:
        """Block until ``count`` requests to ``path`` arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(arrived := [r for r in self.requests if r.path == path]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(arrived)} of {count} requests to {path} arrived within {timeout} s")
                self._changed.wait(remaining)
            return arrived

    def _record(self, request: Request) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler asleep in a slow reply must not block shutdown
    # socketserver's default listen backlog is 5: a sender opening its connection pool at once
    # would see dropped SYNs retransmitted a second later.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) breaks the pipe: expected, not news


def _handler_class(owner: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the sender's connection pool expects

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                path,
                query,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
                self.client_address[1],
            )
            owner._record(request)
            handler = owner.routes.get(path)
            reply = handler(request) if handler is not None else Reply(404, b"no such path")
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests assert on owner.requests instead

    return _Handler
