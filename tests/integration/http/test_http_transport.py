"""The shared httpx plumbing over real loopback sockets: client settings, failure mapping."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from returns.result import Failure, Success

from adapters.http_transport import (
    DEFAULT_TIMEOUT,
    ENVIRONMENT_DETAIL,
    MAX_BODY_BYTES,
    Reply,
    ServiceConnection,
    SharedClient,
    build_client,
    checked_base_url,
    json_object,
    send,
    user_agent,
)
from domain.errors import MalformedResponse, ServiceUnreachable
from tests.integration.http.scripted_server import Answer, Drop, Hang, ScriptedServer

SERVICE = "the test service"


def test_default_timeouts_are_explicit_for_every_phase() -> None:
    assert (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read) == (5.0, 15.0)
    assert (DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.pool) == (10.0, 5.0)
    with build_client() as client:
        assert client.timeout == httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)
        assert client.follow_redirects is False
        assert client.trust_env is True


def test_timeout_is_configurable() -> None:
    with build_client(0.5) as client:
        assert client.timeout == httpx.Timeout(0.5)


def test_no_phase_is_left_unbounded() -> None:
    with build_client(httpx.Timeout(None)) as client:
        assert client.timeout == httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)


def test_user_agent_names_the_distribution(server: ScriptedServer) -> None:
    server.script("/ua", Answer(200, {}))
    with build_client() as client:
        assert isinstance(send(client, SERVICE, "GET", server.base_url + "/ua"), Success)
    sent = server.last("/ua").headers["user-agent"]
    assert sent == user_agent()
    assert sent.startswith("basic-memory-cloud-auth/")


def test_redirects_are_not_followed(server: ScriptedServer) -> None:
    server.script("/moved", Answer(302, None, headers=(("Location", "/elsewhere"),)))
    server.script("/elsewhere", Answer(200, {}))
    with build_client() as client:
        reply = send(client, SERVICE, "GET", server.base_url + "/moved").unwrap()
    assert reply.status == 302
    assert [request.path for request in server.received] == ["/moved"]


def test_a_client_from_outside_still_does_not_follow_redirects(server: ScriptedServer) -> None:
    server.script("/moved", Answer(302, None, headers=(("Location", "/elsewhere"),)))
    server.script("/elsewhere", Answer(200, {}))
    with httpx.Client(follow_redirects=True) as client:
        moved = send(client, SERVICE, "GET", server.base_url + "/moved")
    assert moved.unwrap().status == 302
    assert [request.path for request in server.received] == ["/moved"]


def test_a_client_from_outside_gets_its_timeouts_reported(server: ScriptedServer) -> None:
    server.script("/hang", Hang())
    with httpx.Client(timeout=httpx.Timeout(5.0, read=0.25)) as client:
        hung = send(client, SERVICE, "GET", server.base_url + "/hang")
    assert hung == Failure(ServiceUnreachable(SERVICE, "timed out after 0.25s"))


def test_connection_refused(closed_port_url: str) -> None:
    with build_client() as client:
        result = send(client, SERVICE, "GET", closed_port_url + "/x")
    assert result == Failure(ServiceUnreachable(SERVICE, "connection refused"))


def test_dropped_connection(server: ScriptedServer) -> None:
    server.script("/drop", Drop())
    with build_client() as client:
        result = send(client, SERVICE, "GET", server.base_url + "/drop")
    assert isinstance(result, Failure)
    assert result.failure() == ServiceUnreachable(
        SERVICE, "the connection closed before a complete answer"
    )


def test_a_server_that_never_answers_times_out_on_time(server: ScriptedServer) -> None:
    server.script("/hang", Hang())
    started = time.monotonic()
    with build_client(httpx.Timeout(5.0, read=0.3)) as client:
        result = send(client, SERVICE, "GET", server.base_url + "/hang")
    elapsed = time.monotonic() - started
    assert result == Failure(ServiceUnreachable(SERVICE, "timed out after 0.3s"))
    assert elapsed < 5.0  # far below the 15 s default, with room for a busy machine


def test_an_oversized_answer_is_refused(server: ScriptedServer) -> None:
    server.script("/big", Answer(200, raw=b"x" * (MAX_BODY_BYTES + 1)))
    with build_client() as client:
        result = send(client, SERVICE, "GET", server.base_url + "/big")
    assert isinstance(result, Failure)
    assert isinstance(result.failure(), MalformedResponse)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>oops</html>", "HTTP 200 with a body that is not JSON"),
        (b"", "HTTP 200 with a body that is not JSON"),
        (b"\xff\xfe\x00", "HTTP 200 with a body that is not JSON"),
        (b"[1, 2]", "HTTP 200 with JSON that is not an object"),
        (b'"text"', "HTTP 200 with JSON that is not an object"),
        (b"null", "HTTP 200 with JSON that is not an object"),
    ],
)
def test_json_object_explains_what_is_wrong(body: bytes, problem: str) -> None:
    assert json_object(SERVICE, Reply(200, body)) == Failure(MalformedResponse(SERVICE, problem))


def test_json_object_accepts_an_object() -> None:
    assert json_object(SERVICE, Reply(200, b'{"a": 1}')) == Success({"a": 1})


@pytest.mark.parametrize(
    "url",
    [
        "http://cloud.example.com",
        "http://10.0.0.1:8000",
        "ftp://cloud.example.com",
        "cloud.example.com",
    ],
)
def test_insecure_or_odd_base_urls_are_refused(url: str) -> None:
    assert checked_base_url(SERVICE, url) == Failure(
        ServiceUnreachable(SERVICE, "refusing insecure http:// URL", settings=True)
    )


@pytest.mark.parametrize(
    "url",
    ["https://cloud.example.com", "http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert checked_base_url(SERVICE, url) == Success(url)


def test_a_shared_client_serves_every_service_and_outlives_their_connections(
    server: ScriptedServer,
) -> None:
    server.script("/a", Answer(200, {}))
    server.script("/b", Answer(200, {}))
    shared = SharedClient()
    first = ServiceConnection("the first service", server.base_url, shared)
    second = ServiceConnection("the second service", server.base_url, shared)
    assert first.request("GET", "/a").unwrap().status == 200
    assert second.request("GET", "/b").unwrap().status == 200
    client = shared.get("anyone").unwrap()
    assert shared.get("someone else").unwrap() is client  # built once
    first.close()
    second.close()
    assert not client.is_closed  # the connections did not make it, so they leave it open
    shared.close()
    assert client.is_closed


def test_a_connection_closes_the_client_it_built_itself(server: ScriptedServer) -> None:
    server.script("/a", Answer(200, {}))
    connection = ServiceConnection(SERVICE, server.base_url)
    assert connection.request("GET", "/a").unwrap().status == 200
    connection.close()
    # Closing twice, or after a close, is harmless; a new request builds a new client.
    connection.close()
    assert connection.request("GET", "/a").unwrap().status == 200
    connection.close()


def test_unusable_settings_are_reported_to_each_service_that_asks(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("not a certificate\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(not_a_certificate))
    shared = SharedClient()
    for service in ("the sign-in service", "the cloud API", "the sign-in service"):
        answer = ServiceConnection(service, server.base_url, shared).request("GET", "/a")
        assert answer.failure() == ServiceUnreachable(service, ENVIRONMENT_DETAIL, settings=True)
    assert server.received == []
    # Not remembered: once the settings are fixed, the same shared client works.
    monkeypatch.delenv("SSL_CERT_FILE")
    server.script("/a", Answer(200, {}))
    assert (
        ServiceConnection(SERVICE, server.base_url, shared).request("GET", "/a").unwrap().status
        == 200
    )
    shared.close()


def test_the_token_lock_outlasts_a_refresh_made_under_it() -> None:
    """Refresh and revoke run under the token file's lock: a command waiting for that lock
    must not give up while one HTTP call of the holder may still be running."""
    from adapters.json_file_token_store import TOKEN_LOCK_TIMEOUT_SECONDS

    phases = (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.read)
    assert all(phase is not None for phase in phases)
    assert sum(phase for phase in phases if phase is not None) < TOKEN_LOCK_TIMEOUT_SECONDS
