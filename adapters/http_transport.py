"""Shared httpx plumbing for the network adapters: one safe client, narrow failure mapping.

Every request made through `send` has a wall-clock deadline for the whole exchange (connect,
headers, body: `REQUEST_DEADLINE_SECONDS`) on top of httpx's per-phase timeouts, never follows a redirect, keeps TLS
verification on (custom CAs and proxies come from the standard environment through httpx's
`trust_env`), and reads at most `MAX_BODY_BYTES` of the answer. Library exceptions are turned
into the domain's failures here, with short reasons that never quote a request, a header or a
token: the exception texts themselves are not used, because some of them (h11's header errors,
`UnicodeEncodeError`) echo what was being sent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

from returns.result import Failure, Result, Success

from adapters.version import DISTRIBUTION, version
from domain.endpoints import validate_base_url
from domain.errors import AuthFailure, MalformedResponse, ServiceUnreachable

if TYPE_CHECKING:
    # httpx costs more start-up time than an offline command spends in total, so it is
    # imported inside the functions that send: adapters and the container can be imported
    # and built by every command, and only a command that goes online loads httpx.
    import httpx


@dataclass(frozen=True)
class Timeouts:
    """httpx's per-phase timeouts, in seconds, without importing httpx to name them."""

    connect: float
    read: float
    write: float
    pool: float


DEFAULT_TIMEOUT = Timeouts(connect=5.0, read=15.0, write=10.0, pool=5.0)
# httpx's timeouts bound each read, not the exchange: a server (or proxy) sending one byte
# every few seconds would hold a command, and the token lock with it, for as long as it likes.
# Every request therefore ends within this many seconds, whatever the server does.
REQUEST_DEADLINE_SECONDS = 30.0
# Every answer of these protocols is a few hundred bytes; a megabyte means something is wrong,
# and reading it whole into memory would let a broken server exhaust ours.
MAX_BODY_BYTES = 1024 * 1024
_TOO_LARGE = f"the answer is larger than {MAX_BODY_BYTES} bytes"
INSECURE_URL_DETAIL = "refusing insecure http:// URL"
ENVIRONMENT_DETAIL = (
    "the proxy or certificate settings cannot be used: check HTTPS_PROXY, ALL_PROXY, "
    "NO_PROXY, SSL_CERT_FILE and SSL_CERT_DIR"
)
INVALID_URL_DETAIL = "the URL is not valid"
# Server-supplied text shown to the user is cut to this length.
MAX_SHOWN_TEXT = 200

TimeoutSetting: TypeAlias = "httpx.Timeout | Timeouts | float"


def user_agent() -> str:
    return f"{DISTRIBUTION}/{version()}"


def as_timeout(timeout: TimeoutSetting) -> httpx.Timeout:
    """The setting as an httpx.Timeout in which no phase is unbounded.

    >>> import httpx
    >>> as_timeout(httpx.Timeout(2.0, read=None)).read
    15.0
    >>> as_timeout(DEFAULT_TIMEOUT).read
    15.0
    """
    import httpx

    if isinstance(timeout, Timeouts):
        given = httpx.Timeout(
            connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
        )
    else:
        given = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    # A phase left as None would wait forever; the default bounds it instead.
    return httpx.Timeout(
        connect=DEFAULT_TIMEOUT.connect if given.connect is None else given.connect,
        read=DEFAULT_TIMEOUT.read if given.read is None else given.read,
        write=DEFAULT_TIMEOUT.write if given.write is None else given.write,
        pool=DEFAULT_TIMEOUT.pool if given.pool is None else given.pool,
    )


def build_client(timeout: TimeoutSetting = DEFAULT_TIMEOUT) -> httpx.Client:
    """The one way the adapters make an `httpx.Client`.

    `verify` is left at its secure default on purpose, and `trust_env` stays on so that
    HTTPS_PROXY, SSL_CERT_FILE and SSL_CERT_DIR are honoured.
    """
    import httpx

    return httpx.Client(
        timeout=as_timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent(), "Accept": "application/json"},
    )


def client_for(
    service: str, timeout: TimeoutSetting = DEFAULT_TIMEOUT
) -> Result[httpx.Client, ServiceUnreachable]:
    """`build_client`, or why the environment's proxy or certificate settings prevent it.

    httpx reads HTTPS_PROXY, ALL_PROXY, NO_PROXY, SSL_CERT_FILE and SSL_CERT_DIR while it
    builds the client, and raises on a malformed or unsupported proxy URL (a socks proxy
    needs an extra package) or a certificate file that is missing or holds no certificate.
    """
    import httpx

    try:
        return Success(build_client(timeout))
    except (httpx.InvalidURL, ValueError, ImportError, OSError):
        return Failure(ServiceUnreachable(service, ENVIRONMENT_DETAIL, settings=True))


def checked_base_url(service: str, url: str) -> Result[str, ServiceUnreachable]:
    """Defence in depth: the domain validated the URL already, but a plain-http request to a
    remote host would carry tokens in clear, so the adapters refuse it again before any
    connection. The domain's InsecureHost is not in the ports' failure unions, hence the
    ServiceUnreachable.

    >>> checked_base_url("the cloud API", "http://cloud.example.com").failure().detail
    'refusing insecure http:// URL'
    >>> checked_base_url("the cloud API", "http://127.0.0.1:8000/").unwrap()
    'http://127.0.0.1:8000'
    """
    checked = validate_base_url(service, url)
    if isinstance(checked, Failure):
        return Failure(ServiceUnreachable(service, INSECURE_URL_DETAIL, settings=True))
    return Success(checked.unwrap())


def is_safe_web_url(url: str) -> bool:
    """An https:// URL (http:// only on loopback) with nothing unprintable in it.

    Used on URLs the server hands us to show or open, so that a hostile answer cannot make us
    open a file:// path or pass an option-like argument to a browser command.

    >>> [is_safe_web_url(u) for u in ("https://a.example/x?c=1", "file:///etc", "-x", "http://a.example")]
    [True, False, False, False]
    """
    if not url or len(url) > 2048 or not url.isprintable() or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return isinstance(validate_base_url("url", f"{parts.scheme}://{parts.netloc}"), Success)


def shown_text(value: object, limit: int = MAX_SHOWN_TEXT) -> str:
    """Server-supplied text made safe for a terminal: printable characters only, cut short.

    >>> shown_text("bad\\x1b[31m thing")
    'bad[31m thing'
    >>> shown_text(42)
    ''
    """
    if not isinstance(value, str):
        return ""
    printable = "".join(char for char in value if char.isprintable())
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def without_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """Remove any secret we sent that a server echoed back in its error text.

    >>> without_secrets("token abc123 is bad", ("abc123",))
    'token … is bad'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return text


@dataclass(frozen=True)
class Reply:
    """A fully read HTTP answer, detached from the connection."""

    status: int
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_server_error(self) -> bool:
        # 429 is retryable like a 5xx: the caller backs off and tries again.
        return self.status >= 500 or self.status == 429


def send(
    client: httpx.Client,
    service: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    json_body: Mapping[str, Any] | None = None,
    deadline: float = REQUEST_DEADLINE_SECONDS,
) -> Result[Reply, ServiceUnreachable | MalformedResponse]:
    """Make one request and read its whole answer within `deadline` seconds, or say why that
    was impossible.

    HTTP statuses are not judged here: each adapter knows what its statuses mean.
    """
    import httpx

    if deadline <= 0:
        # No time is left (a device flow at its end): asking would only outlive the caller.
        return Failure(ServiceUnreachable(service, deadline_detail(deadline)))
    # Enforced per request, so a client passed in from outside gets the same guarantees; no
    # phase may wait past the deadline, and the watchdog cuts a read that would.
    timeout = _capped(as_timeout(client.timeout), deadline)
    with _Deadline(deadline) as watchdog:
        try:
            request = client.build_request(
                method,
                url,
                # A fresh connection per request: the watchdog then always holds the socket it
                # may have to cut, even while the headers are awaited (a pooled connection's
                # socket is only known once they have arrived). These protocols make one to
                # three calls per command, so the pool saved nothing worth that gap.
                headers={**(headers or {}), "Connection": "close"},
                data=form,
                json=json_body,
                timeout=timeout,
                extensions={"trace": watchdog.trace},
            )
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                watchdog.watch(response.extensions.get("network_stream"))
                return _read_capped(service, response, watchdog)
            finally:
                response.close()
        except (httpx.TransportError, httpx.DecodingError, httpx.InvalidURL, UnicodeError) as error:
            if watchdog.expired:
                return Failure(ServiceUnreachable(service, deadline_detail(deadline)))
            return Failure(_failure_of(error, service, timeout))


def _failure_of(
    error: Exception, service: str, timeout: httpx.Timeout
) -> ServiceUnreachable | MalformedResponse:
    """What an exception of a request means, in words that never quote the request."""
    import httpx

    match error:
        case httpx.TransportError():
            return ServiceUnreachable(service, _transport_failure(error, timeout))
        case httpx.DecodingError():
            return MalformedResponse(service, "the answer could not be decoded")
        case UnicodeEncodeError():
            # A header value that is not ASCII; the adapters check tokens first, so this is a
            # safety net. The exception's own text would quote the header, so it is not used.
            return ServiceUnreachable(service, "the request could not be encoded")
        case _:
            # httpx.InvalidURL, or a host name httpx cannot encode (IDNA errors are
            # UnicodeErrors), say "https://xn--". The URL came from this machine's settings;
            # retrying cannot help.
            return ServiceUnreachable(service, INVALID_URL_DETAIL, settings=True)


def build_async_client(timeout: TimeoutSetting = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """`build_client`'s asynchronous twin, with the same guarantees. Building it loads the CA
    certificates (tens of milliseconds): an event loop's caller builds it in a worker thread."""
    import httpx

    return httpx.AsyncClient(
        timeout=as_timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent(), "Accept": "application/json"},
    )


def async_client_for(
    service: str, timeout: TimeoutSetting = DEFAULT_TIMEOUT
) -> Result[httpx.AsyncClient, ServiceUnreachable]:
    """`build_async_client`, or why the proxy or certificate settings prevent it."""
    import httpx

    try:
        return Success(build_async_client(timeout))
    except (httpx.InvalidURL, ValueError, ImportError, OSError):
        return Failure(ServiceUnreachable(service, ENVIRONMENT_DETAIL, settings=True))


async def send_async(
    client: httpx.AsyncClient,
    service: str,
    method: str,
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    deadline: float = REQUEST_DEADLINE_SECONDS,
) -> Result[Reply, ServiceUnreachable | MalformedResponse]:
    """`send` for an event loop: the same answers and failures, the deadline enforced by
    cancelling the exchange (an event loop can, where a blocked thread needs its socket cut)."""
    import anyio
    import httpx

    if deadline <= 0:
        return Failure(ServiceUnreachable(service, deadline_detail(deadline)))
    timeout = _capped(as_timeout(client.timeout), deadline)
    try:
        with anyio.fail_after(deadline):
            request = client.build_request(
                method, url, headers={"Connection": "close"}, data=form, timeout=timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        return Failure(MalformedResponse(service, _TOO_LARGE))
                    chunks.append(chunk)
                return Success(Reply(response.status_code, b"".join(chunks)))
            finally:
                await response.aclose()
    except TimeoutError:
        return Failure(ServiceUnreachable(service, deadline_detail(deadline)))
    except (httpx.TransportError, httpx.DecodingError, httpx.InvalidURL, UnicodeError) as error:
        return Failure(_failure_of(error, service, timeout))


def deadline_detail(seconds: float) -> str:
    """Why a request ended at its deadline.

    >>> deadline_detail(30.0), deadline_detail(2.345), deadline_detail(-1)
    ('no complete answer within 30 s', 'no complete answer within 2.3 s', 'no time was left to ask')
    """
    if seconds <= 0:
        return "no time was left to ask"
    return f"no complete answer within {round(seconds, 1):g} s"


def _capped(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """Each phase's timeout, never longer than the whole exchange may take.

    >>> _capped(DEFAULT_TIMEOUT, 8.0).as_dict()
    {'connect': 5.0, 'read': 8.0, 'write': 8.0, 'pool': 5.0}
    """
    import httpx

    def capped(phase: float | None) -> float:
        return seconds if phase is None else min(phase, seconds)

    return httpx.Timeout(
        connect=capped(timeout.connect),
        read=capped(timeout.read),
        write=capped(timeout.write),
        pool=capped(timeout.pool),
    )


class _Deadline:
    """The wall-clock limit of one exchange, and the watchdog that enforces it.

    httpx's timeouts restart with every read, so a byte every few seconds never trips them;
    the phases' timeouts are capped by the time left when the request starts, but one read
    may still start just before the deadline. At the deadline the watchdog therefore shuts the
    connection's socket down, which wakes any read or write blocked on it (closing a socket
    from another thread would not), and the exchange fails at once. httpcore reports each new
    connection's streams through the request's `trace` extension.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False
        self._timer = threading.Timer(seconds, self._cut_now)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()

    @property
    def expired(self) -> bool:
        return self._cut or time.monotonic() >= self._ends_at

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: note the stream of each connection it opens (TCP, then TLS)."""
        if event.endswith(("connect_tcp.complete", "start_tls.complete")):
            self.watch(info.get("return_value"))

    def watch(self, stream: object) -> None:
        get_extra_info = getattr(stream, "get_extra_info", None)
        found = get_extra_info("socket") if callable(get_extra_info) else None
        if not isinstance(found, socket.socket):
            return
        with self._lock:
            late = self._cut
            if not late:
                self._sockets.append(found)
        if late:
            _shut(found)

    def _cut_now(self) -> None:
        with self._lock:
            self._cut = True
            sockets, self._sockets = self._sockets, []
        for found in sockets:
            _shut(found)


def _shut(connection: socket.socket) -> None:
    # OSError: already closed or reset, so nothing is blocked on it any more.
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def _read_capped(
    service: str, response: httpx.Response, deadline: _Deadline
) -> Result[Reply, ServiceUnreachable | MalformedResponse]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if deadline.expired:
            # A trickle of small chunks, each within the read timeout, adds up to no answer.
            return Failure(ServiceUnreachable(service, deadline_detail(deadline.seconds)))
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return Failure(MalformedResponse(service, _TOO_LARGE))
        chunks.append(chunk)
    return Success(Reply(response.status_code, b"".join(chunks)))


def _transport_failure(error: httpx.TransportError, timeout: httpx.Timeout) -> str:
    import httpx

    match error:
        case httpx.TimeoutException():
            return _timeout_detail(error, timeout)
        case httpx.ConnectError():
            return connect_detail(error)
        case _:
            return transport_detail(error)


def _timeout_detail(error: httpx.TimeoutException, timeout: httpx.Timeout) -> str:
    import httpx

    seconds: float | None
    match error:
        case httpx.ConnectTimeout():
            seconds = timeout.connect
        case httpx.ReadTimeout():
            seconds = timeout.read
        case httpx.WriteTimeout():
            seconds = timeout.write
        case httpx.PoolTimeout():
            seconds = timeout.pool
        case _:
            seconds = None
    return f"timed out after {seconds:g}s" if seconds is not None else "timed out"


def _causes(error: BaseException) -> list[BaseException]:
    """The exception and what it wraps (httpx → httpcore → OSError), without looping."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def connect_detail(error: httpx.ConnectError) -> str:
    """A short reason for a failed connection, from the OS error underneath."""
    for cause in _causes(error):
        match cause:
            case ssl.SSLCertVerificationError():
                return "TLS certificate verification failed (a custom CA goes in SSL_CERT_FILE)"
            case ssl.SSLError():
                return "TLS handshake failed"
            case ConnectionRefusedError():
                return "connection refused"
            case socket.gaierror():
                return "host name not found"
            case OSError(strerror=str() as reason) if reason:
                return reason[:MAX_SHOWN_TEXT].lower()
    return "could not connect"


def transport_detail(error: httpx.TransportError) -> str:
    import httpx

    match error:
        case httpx.RemoteProtocolError():
            return "the connection closed before a complete answer"
        case httpx.LocalProtocolError():
            return "the request could not be sent"
        case httpx.ProxyError():
            return "the proxy refused the connection (check HTTPS_PROXY)"
        case httpx.UnsupportedProtocol():
            return "unsupported URL scheme"
        case httpx.ReadError():
            return "the connection failed while reading the answer"
        case httpx.WriteError():
            return "the connection failed while sending the request"
        case _:
            return f"network error ({type(error).__name__})"


def json_object(service: str, reply: Reply) -> Result[dict[str, Any], MalformedResponse]:
    """The answer's body as a JSON object, or why it is not one."""
    try:
        parsed = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        return Failure(
            MalformedResponse(service, f"HTTP {reply.status} with a body that is not JSON")
        )
    if not isinstance(parsed, dict):
        return Failure(
            MalformedResponse(service, f"HTTP {reply.status} with JSON that is not an object")
        )
    return Success(parsed)


class SharedClient:
    """One HTTP client per thread, built on first use, for every service a command talks to.

    Sharing it gives one TLS set-up per command: loading the CA certificates is the costliest
    step of building a client (tens of milliseconds), and a login or a refresh followed by a
    cloud call would otherwise pay it twice. Its timeout and its whole-request `deadline`
    (seconds) apply to every service that uses it. Whoever makes it closes it. `client` wraps
    one already built (shared by every thread: its maker owns it).

    Each thread gets a client of its own, and `close` closes only the calling thread's: a
    library program shares one auth object between threads, and a client closed by one
    thread's credential lookup while another thread's refresh is in flight would lose the
    rotated refresh token, and with it the session.
    """

    def __init__(
        self,
        timeout: TimeoutSetting = DEFAULT_TIMEOUT,
        client: httpx.Client | None = None,
        deadline: float = REQUEST_DEADLINE_SECONDS,
    ) -> None:
        self._timeout = timeout
        self._given = client
        self._mine = threading.local()
        self.deadline = deadline

    def get(self, service: str) -> Result[httpx.Client, ServiceUnreachable]:
        """The client, or why the environment's settings prevent one (named for `service`).

        A failure is not remembered: a long-lived caller (a library user) gets a client as
        soon as the settings are fixed, say once a replaced certificate file is back.
        """
        if self._given is not None:
            return Success(self._given)
        client: httpx.Client | None = getattr(self._mine, "client", None)
        if client is None:
            built = client_for(service, self._timeout)
            if isinstance(built, Failure):
                return built
            client = self._mine.client = built.unwrap()
        return Success(client)

    def close(self) -> None:
        if self._given is not None:
            self._given.close()
            self._given = None
            return
        client: httpx.Client | None = getattr(self._mine, "client", None)
        if client is not None:
            self._mine.client = None
            client.close()


def _not_contacted(service: str, problem: AuthFailure) -> ServiceUnreachable:
    return ServiceUnreachable(service, f"not contacted: {problem.message}", settings=True)


class ServiceConnection:
    """One service's base URL and HTTP client: built on first use, closed if we built it.

    `client` may be an `httpx.Client` or a `SharedClient`, both closed by whoever made them;
    without one, the connection builds a private client and closes it itself. A SharedClient's
    timeout and deadline apply instead of `timeout` and `deadline`. Every request is checked
    against the base URL rule first and goes through `send`. `base_url` may be the failure
    that made the settings unusable (a damaged config.yaml): every request then fails with it,
    so a command that can do without the service (logout) still runs.
    """

    def __init__(
        self,
        service: str,
        base_url: str | Result[str, AuthFailure],
        client: httpx.Client | SharedClient | None = None,
        timeout: TimeoutSetting = DEFAULT_TIMEOUT,
        deadline: float = REQUEST_DEADLINE_SECONDS,
    ) -> None:
        self._service = service
        self._base = (
            checked_base_url(service, base_url)
            if isinstance(base_url, str)
            else base_url.alt(lambda problem: _not_contacted(service, problem)).bind(
                lambda url: checked_base_url(service, url)
            )
        )
        # Only a client built here is closed here; a given one belongs to its maker.
        self._owns_client = client is None
        self._source = (
            client if isinstance(client, SharedClient) else SharedClient(timeout, client, deadline)
        )

    def url(self, path: str) -> Result[str, ServiceUnreachable]:
        """The full URL of `path`, or why the settings allow no request."""
        return self._base.map(lambda base: base + path)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        within: float | None = None,
    ) -> Result[Reply, ServiceUnreachable | MalformedResponse]:
        """`within` shortens the deadline for this request (a device flow's time left)."""
        if isinstance(self._base, Failure):
            return Failure(self._base.failure())
        client = self._source.get(self._service)
        if isinstance(client, Failure):
            return Failure(client.failure())
        url = self._base.unwrap() + path
        return send(
            client.unwrap(),
            self._service,
            method,
            url,
            headers=headers,
            form=form,
            json_body=json_body,
            deadline=self._source.deadline
            if within is None
            else min(self._source.deadline, within),
        )

    def close(self) -> None:
        if self._owns_client:
            self._source.close()
