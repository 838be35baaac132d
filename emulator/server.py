"""The emulator's HTTP server: routing, fault injection, request log, and the CloudEmulator handle."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator import control, pages
from emulator.control import apply_decision
from emulator.settings import EmulatorSettings
from emulator.state import (
    DEVICE_GRANT,
    Answer,
    Decision,
    DeviceCodeInfo,
    EmulatorState,
    Fault,
    FaultKind,
    LogEntry,
    SessionInfo,
    User,
    oauth_error,
)

_MAX_BODY = 1 << 20
# A chunk-size line longer than this is not a chunked body but an attack on the reader.
_MAX_CHUNK_LINE = 1024
_SAFE_METHODS = ("GET", "HEAD")
_HEX_DIGITS = b"0123456789abcdefABCDEF"
WORKSPACE_HEADER = "X-Workspace-ID"
_WORKSPACE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def logged_workspace(value: str | None) -> str | None:
    """The workspace header as the request log keeps it: an id as sent, anything else marked,
    so the log never echoes arbitrary client text.

    >>> logged_workspace("t-1"), logged_workspace(None), logged_workspace("x y")
    ('t-1', None, '<invalid>')
    """
    if value is None:
        return None
    return value if _WORKSPACE_ID.fullmatch(value) else "<invalid>"


class BadBody(ValueError):
    """A request body that cannot be read as sent; `status` is the answer to give."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_json(body: bytes) -> object:
    """JSON from a request body; ValueError for anything else, deep nesting included.

    >>> parse_json(b'{"a": [1]}')
    {'a': [1]}
    >>> parse_json(b"[" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: the JSON is nested too deeply
    """
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:
        # The standard decoder recurses per level: thousands of brackets would otherwise end
        # in a 500 (or worse, exhaust the handler thread's stack).
        raise ValueError("the JSON is nested too deeply") from None


@dataclass(frozen=True)
class Request:
    """A parsed request, as the routes see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes


@dataclass(frozen=True)
class Response:
    """What to write back; `grant_type` only feeds the request log."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    grant_type: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, answer: Answer, grant_type: str | None = None) -> Response:
        """A JSON response from a state answer."""
        error = answer.body.get("error")
        headers: tuple[tuple[str, str], ...] = ()
        if answer.status == 401:
            headers = (("WWW-Authenticate", 'Bearer realm="basic-memory-cloud"'),)
        return cls(
            answer.status,
            json.dumps(answer.body).encode(),
            "application/json",
            headers,
            grant_type,
            error if isinstance(error, str) else None,
        )

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        """An HTML page."""
        return cls(status, text.encode(), "text/html; charset=utf-8")


Route = Callable[[Request], Response]


def _origin_of(url: str) -> str:
    """scheme://host:port of a URL, lower-cased; '' when it has none (Origin: null).

    >>> _origin_of("http://127.0.0.1:8000/device?user_code=X"), _origin_of("null")
    ('http://127.0.0.1:8000', '')
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def _form(request: Request) -> dict[str, str] | Answer:
    """The parameters of a form-encoded (or, leniently, JSON) POST, or the OAuth error."""
    content_type = request.headers.get_content_type()
    try:
        text = request.body.decode("utf-8")
        if content_type == "application/json":
            loaded = parse_json(text.encode() or b"{}")
            if not isinstance(loaded, dict) or not all(
                isinstance(value, str) for value in loaded.values()
            ):
                return oauth_error("invalid_request", "the JSON body must map names to strings")
            return loaded
        parsed = parse_qs(text, keep_blank_values=True)
    except ValueError:
        return oauth_error("invalid_request", "the body is not valid form data")
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        # RFC 6749 §3.1: parameters must not be included more than once.
        return oauth_error("invalid_request", f"repeated parameter: {repeated[0]}")
    return {name: values[0] for name, values in parsed.items()}


def _json_payload(request: Request) -> object:
    """The JSON body, or None when it is absent or malformed."""
    try:
        return parse_json(request.body) if request.body else None
    except ValueError:
        return None


_CODE_PROBLEMS = {
    Decision.UNKNOWN_CODE: (404, "That code is not valid. Check the code shown in your terminal."),
    Decision.EXPIRED: (410, "This code has expired. Run `bm cloud login` again for a new one."),
    Decision.ALREADY_DECIDED: (409, "This code has already been used."),
}


class _App:
    """The routes, bound to one state and one base URL."""

    def __init__(self, state: EmulatorState, base_url: str) -> None:
        self.state = state
        self.base_url = base_url
        netloc = urlsplit(base_url).netloc.lower()
        port = urlsplit(base_url).port
        # The address it serves, and localhost for people who type that in a browser.
        self.hosts = frozenset({netloc, f"localhost:{port}"})
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        self.routes: dict[str, dict[str, Route]] = {
            "/": {"GET": self.index},
            "/device": {"GET": self.device_page, "POST": self.device_decision},
            "/subscribe": {"GET": self.subscribe},
            "/oauth2/device_authorization": {"POST": self.device_authorization},
            "/oauth2/token": {"POST": self.token},
            "/oauth2/revoke": {"POST": self.revoke},
            "/proxy/health": {"GET": self.health},
            "/api/keys": {"POST": self.api_keys},
            "/workspaces/": {"GET": self.workspaces},
            "/workspaces": {"GET": self.workspaces},
        }
        for path, control_methods in control.ROUTES.items():
            self.routes[path] = {
                method: self._control(route) for method, route in control_methods.items()
            }

    def _control(self, route: control.ControlRoute) -> Route:
        def run(request: Request) -> Response:
            if request.method not in _SAFE_METHODS:
                # A web page can make a browser POST form or plain-text bodies anywhere without
                # asking; a JSON body needs a CORS preflight, which this server never grants.
                if request.headers.get_content_type() != "application/json":
                    return Response.of(
                        Answer(
                            415,
                            {
                                "error": "invalid_request",
                                "error_description": "send Content-Type: application/json",
                            },
                        )
                    )
                try:
                    payload = parse_json(request.body) if request.body else None
                except ValueError as error:
                    return Response.of(
                        Answer(400, {"error": "invalid_request", "error_description": str(error)})
                    )
                return Response.of(control.run(route, self.state, payload))
            return Response.of(control.run(route, self.state, None))

        return run

    def refusal(self, method: str, headers: Message) -> Response | None:
        """Why a request that a page on another site could have made is refused, if it is.

        The Host must name this server as its URL does: a DNS-rebinding page (evil.example
        resolving to 127.0.0.1) reaches the socket but sends its own name. A state-changing
        request with an Origin or Referer from elsewhere is a cross-site form post.
        """
        host = (headers.get("Host") or "").strip().lower()
        if host not in self.hosts:
            return Response.of(
                Answer(
                    421,
                    {"error": "invalid_request", "error_description": "wrong Host for this server"},
                )
            )
        if method in _SAFE_METHODS:
            return None
        origin = headers.get("Origin")
        referer = headers.get("Referer")
        sent_from = origin if origin is not None else referer
        if sent_from is not None and _origin_of(sent_from) not in self.origins:
            return Response.of(
                Answer(
                    403,
                    {"error": "invalid_request", "error_description": "cross-site request"},
                )
            )
        return None

    def handle(self, request: Request) -> Response:
        """Route a request; unknown paths and methods get JSON errors."""
        methods = self.routes.get(request.path)
        if methods is None:
            return Response.of(
                Answer(404, {"error": "not_found", "error_description": "no such path"})
            )
        route = methods.get(request.method)
        if route is None:
            allowed = ", ".join(sorted(methods))
            return Response.of(
                Answer(405, {"error": "method_not_allowed", "error_description": f"use {allowed}"})
            )
        return route(request)

    def index(self, request: Request) -> Response:
        return Response.of(
            Answer(
                200,
                {
                    "service": "basic-memory-cloud-emulator",
                    "cloud_host": self.base_url,
                    "cloud_domain": self.base_url,
                    "verification_uri": f"{self.base_url}/device",
                },
            )
        )

    def device_page(self, request: Request) -> Response:
        typed = request.query.get("user_code", [""])[0].strip()
        if not typed:
            return Response.html(200, pages.entry_page())
        pending = self.state.pending_user_code(typed)
        if isinstance(pending, Decision):
            code, message = _CODE_PROBLEMS[pending]
            return Response.html(code, pages.entry_page(message, typed))
        users = self.state.users()
        return Response.html(
            200, pages.confirm_page(pending, users, self.state.settings.default_email)
        )

    def device_decision(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Answer):
            return Response.html(400, pages.entry_page("The form could not be read."))
        typed = form.get("user_code", "").strip()
        action = form.get("action")
        if action not in ("approve", "deny"):
            return Response.html(400, pages.entry_page("Choose Approve or Deny.", typed))
        decision = self.state.decide(
            typed, approve=action == "approve", email=form.get("email") or None
        )
        if decision is Decision.DONE:
            return Response.html(200, pages.result_page(approved=action == "approve"))
        if decision is Decision.UNKNOWN_USER:
            return Response.html(400, pages.entry_page("There is no such user.", typed))
        code, message = _CODE_PROBLEMS[decision]
        return Response.html(code, pages.entry_page(message, typed))

    def subscribe(self, request: Request) -> Response:
        return Response.html(200, pages.subscribe_page())

    def device_authorization(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Answer):
            return Response.of(form)
        return Response.of(self.state.device_authorization(form, self.base_url))

    def token(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Answer):
            return Response.of(form)
        # Only the grant types we know go to the log: it must never echo what a client sent.
        grant = form.get("grant_type")
        logged = grant if grant in (DEVICE_GRANT, "refresh_token") else None
        return Response.of(self.state.token(form), grant_type=logged)

    def revoke(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Answer):
            return Response.of(form)
        return Response.of(self.state.revoke(form))

    def health(self, request: Request) -> Response:
        return Response.of(
            self.state.health(
                request.headers.get("Authorization"),
                self.base_url,
                request.headers.get(WORKSPACE_HEADER),
            )
        )

    def api_keys(self, request: Request) -> Response:
        authorization = request.headers.get("Authorization")
        return Response.of(
            self.state.create_api_key(
                authorization, _json_payload(request), request.headers.get(WORKSPACE_HEADER)
            )
        )

    def workspaces(self, request: Request) -> Response:
        return Response.of(
            self.state.list_workspaces(
                request.headers.get("Authorization"), request.headers.get(WORKSPACE_HEADER)
            )
        )


class _Handler(BaseHTTPRequestHandler):
    """Reads one request at a time, applies faults, answers, logs. Never shows a traceback."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects of a real server
    server_version = "bm-emulator"
    sys_version = ""
    # Answer promptly: without it, a small response waits on Nagle's algorithm.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this long, freeing their threads.
    timeout = 30

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The standard line holds the query string, where a user code may travel: leave it out.
        path = urlsplit(self.path).path
        self.log_message('"%s %s" %s', self.command, path, getattr(code, "value", code))

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """JSON instead of the standard HTML error page (malformed requests, unknown methods)."""
        self.close_connection = True
        body = json.dumps(
            {
                # 501 is the client's mistake too (a method this server does not speak).
                "error": "server_error" if code >= 500 and code != 501 else "invalid_request",
                "error_description": message or HTTPStatus(code).phrase,
            }
        ).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def _dispatch(self) -> None:
        try:
            self._serve()
        except OSError:
            # The client went away mid-answer; nothing to tell it.
            self.close_connection = True

    def _serve(self) -> None:
        state = self.server.app.state
        started, started_wall = state.monotonic(), state.wall()
        path = urlsplit(self.path).path
        fault: Fault | None = None
        try:
            refused = self.server.app.refusal(self.command, self.headers)
            if refused is not None:
                # The body is left unread, so the connection cannot carry another request.
                self.close_connection = True
                self._log(started, started_wall, path, refused, None)
                self._send(refused)
                return
            try:
                body = self._read_body()
            except BadBody as bad:
                self.send_error(bad.status, bad.reason)
                return
            fault = state.take_fault(path)
            if fault is not None and fault.kind in (FaultKind.DELAY, FaultKind.HANG):
                # Waits end early when the emulator stops, so shutdown never hangs on them.
                self.server.stopping.wait(fault.seconds)
            if fault is not None and fault.kind in (FaultKind.DROP, FaultKind.HANG):
                self.close_connection = True
                self._log(started, started_wall, path, None, fault)
                return
            if fault is not None and fault.kind is FaultKind.STATUS:
                response = Response.of(
                    Answer(fault.status, {"error": "server_error", "error_description": "injected"})
                )
            else:
                request = Request(
                    self.command, path, parse_qs(urlsplit(self.path).query), self.headers, body
                )
                response = self.server.app.handle(request)
        except Exception:
            # A bug must not reach the client as a traceback, nor kill the connection silently.
            if self.server.verbose:
                import traceback

                traceback.print_exc()
            response = Response.of(oauth_error("server_error", "internal error", 500))
        # Log before answering: a client that reads the log right after its answer must find it.
        self._log(started, started_wall, path, response, fault)
        if fault is not None and fault.kind is FaultKind.TRICKLE:
            self._trickle(response, fault.seconds)
        else:
            self._send(response)

    def _read_body(self) -> bytes:
        """The request body, sized by Content-Length or sent chunked (RFC 9112 §7.1).

        Read in full either way: a body left in the stream would be parsed as the next
        request on the connection.
        """
        coding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        length_text = self.headers.get("Content-Length")
        if coding:
            if length_text is not None:
                # RFC 9112 §6.1: both at once is how requests get smuggled; refuse it.
                raise BadBody(HTTPStatus.BAD_REQUEST, "both Transfer-Encoding and Content-Length")
            if coding != "chunked":
                raise BadBody(HTTPStatus.NOT_IMPLEMENTED, "unsupported Transfer-Encoding")
            return self._read_chunked()
        length_text = length_text or "0"
        if not length_text.isdigit():
            raise BadBody(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        length = int(length_text)
        if length > _MAX_BODY:
            raise BadBody(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
                raise BadBody(HTTPStatus.BAD_REQUEST, "invalid chunk size line")
            size_text = line.split(b";", 1)[0].strip()
            # Hex digits only: int() would also take "0x", "+" and "_", which no peer sends.
            if not size_text or size_text.strip(_HEX_DIGITS):
                raise BadBody(HTTPStatus.BAD_REQUEST, "invalid chunk size")
            chunk_size = int(size_text, 16)
            if chunk_size == 0:
                break
            size += chunk_size
            if size > _MAX_BODY:
                raise BadBody(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large")
            chunk = self.rfile.read(chunk_size)
            if len(chunk) != chunk_size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadBody(HTTPStatus.BAD_REQUEST, "truncated chunk")
            chunks.append(chunk)
        # Trailer fields up to the empty line; none of them matter here.
        for _ in range(100):
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return b"".join(chunks)
        raise BadBody(HTTPStatus.BAD_REQUEST, "too many trailer fields")

    def _trickle(self, response: Response, every: float) -> None:
        """The headers at once, then the body one byte per `every` seconds."""
        self._send(replace(response, body=b""), length=len(response.body))
        for index in range(len(response.body)):
            # Ends early when the emulator stops; a client that gave up makes the write fail.
            if self.server.stopping.wait(every):
                self.close_connection = True
                return
            self.wfile.write(response.body[index : index + 1])

    def _send(self, response: Response, length: int | None = None) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body) if length is None else length))
        # RFC 6749 §5.1: token responses must not be cached; nothing here should be.
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _log(
        self,
        started: float,
        started_wall: float,
        path: str,
        response: Response | None,
        fault: Fault | None,
    ) -> None:
        if path.startswith("/_emulator/"):
            return
        self.server.app.state.record(
            LogEntry(
                method=self.command,
                path=path,
                status=response.status if response else None,
                grant_type=response.grant_type if response else None,
                error=response.error if response else None,
                fault=str(fault.kind) if fault else None,
                monotonic=started,
                wall=started_wall,
                workspace=logged_workspace(self.headers.get(WORKSPACE_HEADER)),
            )
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not wait for handler threads on close: a hung or idle keep-alive one may take long.
    block_on_close = False

    def __init__(self, settings: EmulatorSettings, state: EmulatorState) -> None:
        self.address_family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        self.verbose = settings.verbose
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        host = "127.0.0.1" if settings.host == "localhost" else settings.host
        super().__init__((host, settings.port), _Handler)
        shown = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        self.app = _App(state, f"http://{shown}:{self.server_port}")

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall for seconds
        # on a machine without DNS; loopback needs no name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake every handler thread still reading from a client, so it ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class CloudEmulator:
    """A running emulator: identity provider, cloud API, device page and control API.

    Use it as a context manager; port 0 picks a free port::

        with CloudEmulator(EmulatorSettings(interval=0.1)) as emu:
            httpx.get(f"{emu.base_url}/proxy/health")
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.state = EmulatorState(self.settings, monotonic=monotonic, wall=wall)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> CloudEmulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = _Server(self.settings, self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # stop() waits up to one poll; tests start and stop hundreds of emulators, and 100
            # idle wake-ups a second cost nothing measurable.
            kwargs={"poll_interval": 0.01},
            name=f"bm-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end waiting faults, close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CloudEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: the cloud host and the AuthKit domain at once."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.app.base_url

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.server_port

    # -- control (same as the HTTP control API) -----------------------------------------------

    def approve(self, user_code: str, email: str | None = None) -> None:
        """Approve a pending code as `email` (default user if None).

        Raises LookupError for an unknown code or user, ValueError if the code is not pending.
        """
        apply_decision(self.state, user_code, approve=True, email=email)

    def deny(self, user_code: str) -> None:
        """Deny a pending code; raises like `approve`."""
        apply_decision(self.state, user_code, approve=False)

    def set_subscription(self, email: str, active: bool) -> None:
        """Give or take away a subscription (of the user's personal workspace); LookupError for
        an unknown user."""
        self.state.set_subscription(email, active)

    def add_workspace(
        self,
        email: str,
        name: str,
        *,
        slug: str | None = None,
        workspace_type: str = "organization",
        role: str = "member",
        subscribed: bool = True,
        tenant_id: str | None = None,
    ) -> str:
        """Make a user a member of a workspace (new, or `tenant_id`); returns its tenant id."""
        return self.state.add_workspace(
            email,
            name,
            slug=slug,
            workspace_type=workspace_type,
            role=role,
            subscribed=subscribed,
            tenant_id=tenant_id,
        )

    def set_workspace_subscription(self, tenant_id: str, active: bool) -> None:
        """Give or take away one workspace's subscription."""
        self.state.set_workspace_subscription(tenant_id, active)

    def expire_sessions(self, *, email: str | None = None, session_id: str | None = None) -> int:
        """Expire the access tokens of matching sessions now; returns the number of sessions."""
        return self.state.expire_sessions(email=email, session_id=session_id)

    def refuse_access_token(self, access_token: str) -> bool:
        """The cloud refuses this access token from now on, before it expires."""
        return self.state.refuse_access_token(access_token)

    def set_token_ttl(self, seconds: float) -> None:
        """Lifetime of access tokens issued from now on."""
        self.state.set_token_ttl(seconds)

    def fail_next(self, path: str, status: int = 503, count: int = 1) -> None:
        """The next `count` requests to `path` ('*': any) answer `status` (5xx)."""
        self.state.add_fault(Fault(path, FaultKind.STATUS, status=status), count)

    def delay_next(self, path: str, seconds: float, count: int = 1) -> None:
        """The next `count` requests to `path` are answered after `seconds`."""
        self.state.add_fault(Fault(path, FaultKind.DELAY, seconds=seconds), count)

    def drop_next(self, path: str, count: int = 1) -> None:
        """The next `count` requests to `path` get their connection closed, unanswered."""
        self.state.add_fault(Fault(path, FaultKind.DROP), count)

    def hang_next(self, path: str, seconds: float, count: int = 1) -> None:
        """The next `count` requests to `path` are held `seconds`, then dropped unanswered."""
        self.state.add_fault(Fault(path, FaultKind.HANG, seconds=seconds), count)

    def trickle_next(self, path: str, every_seconds: float, count: int = 1) -> None:
        """The next `count` requests to `path` are answered normally, but after the headers
        the body comes one byte every `every_seconds` (a slow server or proxy)."""
        self.state.add_fault(Fault(path, FaultKind.TRICKLE, seconds=every_seconds), count)

    def clear_faults(self) -> None:
        """Forget pending faults."""
        self.state.clear_faults()

    def request_log(self) -> list[LogEntry]:
        """Requests so far (control API excluded), oldest first. Holds no secret."""
        return self.state.request_log()

    def refresh_count(self) -> int:
        """Successful refresh grants so far."""
        return self.state.refresh_count()

    def device_codes(self) -> list[DeviceCodeInfo]:
        """Issued device codes (user code, status, ...), oldest first."""
        return self.state.device_codes()

    def user_codes(self) -> list[str]:
        """User codes issued so far, oldest first."""
        return [info.user_code for info in self.state.device_codes()]

    def users(self) -> list[User]:
        """Known users."""
        return self.state.users()

    def sessions(self) -> list[SessionInfo]:
        """Sessions so far, oldest first."""
        return self.state.sessions()

    def issue_session(self, email: str | None = None) -> dict[str, object]:
        """Sign a user (default user if None) in without the device flow; the token response."""
        return self.state.issue_session(email or self.settings.default_email)

    def issue_api_key(self, email: str | None = None, name: str = "test") -> str:
        """A fresh `bmc_` key for a user (default user if None), without OAuth."""
        key = self.state.issue_api_key(email or self.settings.default_email, name)["key"]
        assert isinstance(key, str)
        return key

    def reset(self) -> None:
        """Forget codes, sessions, keys, faults and the log; restore users and settings."""
        self.state.reset()
