"""A scripted loopback HTTP server, so the httpx adapters are proven over real sockets.

Each path gets a queue of actions (answer, hang, drop); the last one repeats. Every request is
recorded with its headers and body so tests can check what the adapters sent.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (until the test ends)."""


@dataclass(frozen=True)
class Drop:
    """Read the request, then close the connection without a byte of answer."""


@dataclass(frozen=True)
class Trickle:
    """Answer 200 with `body`, one byte every `every` seconds: the body only, or (with
    `headers`) the status line and headers too. Each read succeeds, so only a deadline stops
    a client; the server gives up once the test ends."""

    body: bytes = b'{"status": "ok", "padding": "' + b"x" * 200 + b'"}'
    every: float = 0.2
    headers: bool = False


Action = Answer | Hang | Drop | Trickle


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ScriptedServer:
    base_url: str = ""
    scripts: dict[str, list[Action]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, path: str, *actions: Action) -> None:
        with self.lock:
            self.scripts[path] = list(actions)

    def next_action(self, path: str) -> Action:
        with self.lock:
            queue = self.scripts.get(path)
            if not queue:
                return Answer(404, {"detail": "Not Found"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def record(self, request: Received) -> None:
        with self.lock:
            self.received.append(request)

    def last(self, path: str) -> Received:
        matching = [request for request in self.received if request.path == path]
        assert matching, f"no request reached {path}"
        return matching[-1]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        scripted = self.server.scripted
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        scripted.record(Received(self.command, path, headers, body))
        match scripted.next_action(path):
            case Hang():
                scripted.released.wait(timeout=30)
                self.close_connection = True
            case Drop():
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            case Trickle() as trickle:
                self.close_connection = True
                head = (
                    b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(trickle.body)}\r\n\r\n".encode()
                )
                slow = head + trickle.body if trickle.headers else trickle.body
                if not trickle.headers:
                    self.wfile.write(head)
                for index in range(len(slow)):
                    if scripted.released.wait(trickle.every):
                        return
                    self.wfile.write(slow[index : index + 1])
            case Answer() as answer:
                payload = answer.payload()
                self.send_response(answer.status)
                if answer.raw is None and answer.body is not None:
                    self.send_header("Content-Type", "application/json")
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, scripted: ScriptedServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripted = scripted

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a hanging answer is expected; keep test output clean.
        pass


@contextmanager
def running_server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    httpd = _Server(scripted)
    host, port = httpd.server_address[:2]
    scripted.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.005,), daemon=True)
    thread.start()
    try:
        yield scripted
    finally:
        # Let hanging handlers go first, so shutting down does not wait for them.
        scripted.released.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
