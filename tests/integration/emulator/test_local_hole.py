"""The emulator is no local hole: what a web page in the person's browser could forge is refused.

A page on another site can make the browser send form or plain-text POSTs to loopback without
asking (no CORS preflight), and with DNS rebinding it can even read the answers; so the control
API takes JSON only, every request must name this server in its Host, the /device form must
come from the emulator's own origin, and odd bodies (deep JSON, chunked) get a clean answer.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from emulator import CloudEmulator
from tests.integration.emulator.emulator_driver import DeviceFlow

DEEP = b"[" * 100_000 + b"]" * 100_000


def _raw(emulator: CloudEmulator, request: bytes) -> bytes:
    """Send raw bytes, return everything the server answers until it closes or stalls."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2) as raw:
        raw.sendall(request)
        raw.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := raw.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def _host(emulator: CloudEmulator) -> bytes:
    return f"Host: 127.0.0.1:{emulator.port}\r\n".encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # httpx sends no type without a body: a body-less fetch() from a page does the same
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "multipart/form-data; boundary=x"},
    ],
)
def test_the_control_api_takes_json_only(
    client: httpx.Client, emulator: CloudEmulator, headers: dict[str, str]
) -> None:
    body = b'{"email": "alice@example.com", "active": false}' if headers else b""
    answer = client.post("/_emulator/subscription", content=body, headers=headers)
    assert answer.status_code == 415
    assert all(user.subscribed for user in emulator.users() if user.email == "alice@example.com")
    assert client.post("/_emulator/reset", headers=headers).status_code == 415


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "127.0.0.2:{port}", ""]
)
def test_a_request_naming_another_host_is_refused(
    emulator: CloudEmulator, flow: DeviceFlow, host: str
) -> None:
    started = flow.start()
    named = host.format(port=emulator.port)
    reads = _raw(
        emulator, f"GET /_emulator/device_codes HTTP/1.1\r\nHost: {named}\r\n\r\n".encode()
    )
    assert reads.startswith(b"HTTP/1.1 421")
    assert started.user_code.encode() not in reads
    form = f"user_code={started.user_code}&action=approve".encode()
    posts = _raw(
        emulator,
        b"POST /device HTTP/1.1\r\n"
        + f"Host: {named}\r\nContent-Type: application/x-www-form-urlencoded\r\n".encode()
        + f"Content-Length: {len(form)}\r\n\r\n".encode()
        + form,
    )
    assert posts.startswith(b"HTTP/1.1 421")
    assert [info.status for info in emulator.device_codes()] == ["pending"]


def test_localhost_and_the_served_address_are_accepted(emulator: CloudEmulator) -> None:
    for host in (
        f"127.0.0.1:{emulator.port}",
        f"localhost:{emulator.port}",
        f"LOCALHOST:{emulator.port}",
    ):
        answer = _raw(
            emulator, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Referer": "https://evil.example/page"},
    ],
)
def test_a_cross_site_device_form_is_refused(
    client: httpx.Client, flow: DeviceFlow, emulator: CloudEmulator, headers: dict[str, str]
) -> None:
    started = flow.start()
    answer = client.post(
        "/device", data={"user_code": started.user_code, "action": "approve"}, headers=headers
    )
    assert answer.status_code == 403
    assert [info.status for info in emulator.device_codes()] == ["pending"]


def test_the_device_form_from_its_own_page_works(
    client: httpx.Client, flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    started = flow.start()
    own = emulator.base_url
    answer = client.post(
        "/device",
        data={"user_code": started.user_code, "action": "approve"},
        headers={"Origin": own, "Referer": f"{own}/device?user_code={started.user_code}"},
    )
    assert answer.status_code == 200
    assert [info.status for info in emulator.device_codes()] == ["approved"]


@pytest.mark.parametrize("path", ["/_emulator/approve", "/oauth2/token"])
def test_deeply_nested_json_is_a_400(client: httpx.Client, path: str) -> None:
    answer = client.post(path, content=DEEP, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_a_chunked_body_is_read_and_the_connection_stays_in_step(emulator: CloudEmulator) -> None:
    form = b"client_id=client_01K6KWQPW6J1M8VV7R3TZP5A6M&scope=openid&code_challenge=" + b"a" * 43
    form += b"&code_challenge_method=S256"
    chunked = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (form[:10], form[10:])
    )
    answer = _raw(
        emulator,
        b"POST /oauth2/device_authorization HTTP/1.1\r\n"
        + _host(emulator)
        + b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked
        + b"0\r\n\r\n"
        + b"GET / HTTP/1.1\r\n"
        + _host(emulator)
        + b"Connection: close\r\n\r\n",
    )
    first, _, rest = answer.partition(b"HTTP/1.1 200")[2].partition(b"HTTP/1.1 ")
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"device_code"' in first
    assert rest.startswith(b"200")  # the next request was read as one, not as body left over
    assert b"basic-memory-cloud-emulator" in rest


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"400"),
        (b"Transfer-Encoding: gzip\r\n", b"501"),
    ],
)
def test_ambiguous_or_unknown_framing_is_refused(
    emulator: CloudEmulator, framing: bytes, status: bytes
) -> None:
    answer = _raw(
        emulator,
        b"POST /oauth2/token HTTP/1.1\r\n" + _host(emulator) + framing + b"\r\n0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 " + status)


@pytest.mark.parametrize(
    "chunk",
    [b"zz\r\nab\r\n0\r\n\r\n", b"0x2\r\nab\r\n0\r\n\r\n", b"5\r\nab", b"1" * 2000 + b"\r\n"],
)
def test_malformed_chunks_are_a_400(emulator: CloudEmulator, chunk: bytes) -> None:
    answer = _raw(
        emulator,
        b"POST /oauth2/token HTTP/1.1\r\n"
        + _host(emulator)
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunk,
    )
    assert answer.startswith(b"HTTP/1.1 400")
