"""Whole-request deadlines over real loopback sockets: a server that trickles cannot hold a call.

httpx's timeouts bound each read, so a server sending a byte every fraction of a second never
trips them; `send` must end the exchange at its deadline whatever phase it is in. The
deadlines here are a couple of seconds (the product's is 30 s) so the tests stay quick.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from pydantic import SecretStr
from returns.result import Failure

from adapters.http_transport import (
    REQUEST_DEADLINE_SECONDS,
    ServiceConnection,
    SharedClient,
    build_client,
    send,
)
from adapters.httpx_identity_provider import SERVICE as SIGN_IN
from adapters.httpx_identity_provider import HttpxIdentityProvider
from adapters.json_file_token_store import TOKEN_LOCK_TIMEOUT_SECONDS, JsonFileTokenStore
from domain.endpoints import CloudEndpoints
from domain.errors import ServiceUnreachable
from domain.session import TokenResponse, session_from_response
from emulator import CloudEmulator, EmulatorSettings
from entrypoints.container import build_container
from tests.integration.http.scripted_server import Answer, ScriptedServer, Trickle

SERVICE = "the test service"
DEADLINE = 1.5
# Far below what the trickles below would take to finish (40 s and more), yet roomy enough
# for a busy 2-core machine: the point is that the call ends near its deadline, not never.
SLACK = 3.0


def _timed(client: httpx.Client, url: str, deadline: float = DEADLINE) -> tuple[object, float]:
    began = time.monotonic()
    result = send(client, SERVICE, "GET", url, deadline=deadline)
    return result, time.monotonic() - began


def test_the_deadline_is_30_seconds_and_the_token_lock_outlasts_it() -> None:
    assert REQUEST_DEADLINE_SECONDS == 30.0
    assert TOKEN_LOCK_TIMEOUT_SECONDS > REQUEST_DEADLINE_SECONDS


def test_a_body_trickling_one_byte_at_a_time_ends_at_the_deadline(server: ScriptedServer) -> None:
    server.script("/slow", Trickle(every=0.2))
    with build_client() as client:
        result, elapsed = _timed(client, server.base_url + "/slow")
    assert result == Failure(ServiceUnreachable(SERVICE, "no complete answer within 1.5 s"))
    assert elapsed < DEADLINE + SLACK


def test_trickling_headers_end_at_the_deadline_too(server: ScriptedServer) -> None:
    # Before the headers are complete httpx is still inside client.send: no chunk loop runs.
    server.script("/slow", Trickle(every=0.2, headers=True))
    with build_client() as client:
        result, elapsed = _timed(client, server.base_url + "/slow")
    assert result == Failure(ServiceUnreachable(SERVICE, "no complete answer within 1.5 s"))
    assert elapsed < DEADLINE + SLACK


def test_a_read_blocked_at_the_deadline_is_cut(server: ScriptedServer) -> None:
    # One byte every 3.5 s against a 4 s deadline: the second read starts at 3.5 s and its
    # own timeout (capped at 4 s when the request began) would let it wait until the next
    # byte at 7 s; the watchdog ends it at 4 s.
    server.script("/slow", Trickle(every=3.5))
    with build_client() as client:
        result, elapsed = _timed(client, server.base_url + "/slow", deadline=4.0)
    assert result == Failure(ServiceUnreachable(SERVICE, "no complete answer within 4 s"))
    assert elapsed < 4.0 + 2.0


def test_an_answer_within_the_deadline_is_read_whole(server: ScriptedServer) -> None:
    server.script("/quick", Trickle(body=b'{"ok": true}', every=0.01))
    with build_client() as client:
        reply = send(client, SERVICE, "GET", server.base_url + "/quick", deadline=DEADLINE)
    assert reply.unwrap().body == b'{"ok": true}'


def test_no_time_left_means_no_request(server: ScriptedServer) -> None:
    server.script("/a", Answer(200, {}))
    with build_client() as client:
        result = send(client, SERVICE, "GET", server.base_url + "/a", deadline=0)
    assert result == Failure(ServiceUnreachable(SERVICE, "no time was left to ask"))
    assert server.received == []


def test_a_shared_clients_deadline_applies_and_a_shorter_limit_wins(server: ScriptedServer) -> None:
    server.script("/slow", Trickle(every=0.2))
    shared = SharedClient(deadline=DEADLINE)
    connection = ServiceConnection(SERVICE, server.base_url, shared)
    assert connection.request("GET", "/slow") == Failure(
        ServiceUnreachable(SERVICE, "no complete answer within 1.5 s")
    )
    assert connection.request("GET", "/slow", within=0.5) == Failure(
        ServiceUnreachable(SERVICE, "no complete answer within 0.5 s")
    )
    shared.close()


def test_a_poll_never_outlives_the_time_given(server: ScriptedServer) -> None:
    server.script("/oauth2/token", Trickle(every=0.2))
    endpoints = CloudEndpoints(
        cloud_host=server.base_url, cloud_domain=server.base_url, client_id="client_test"
    )
    with HttpxIdentityProvider(endpoints) as provider:
        polled = provider.poll_device_token(SecretStr("device-code"), "verifier", within=0.8)
    assert polled == Failure(ServiceUnreachable(SIGN_IN, "no complete answer within 0.8 s"))


@pytest.fixture
def trickling_emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(token_ttl=600.0)) as running:
        yield running


def test_status_reports_a_trickling_cloud_as_unreachable(
    trickling_emulator: CloudEmulator, tmp_path: Path
) -> None:
    issued = trickling_emulator.issue_session("alice@example.com")
    session = session_from_response(
        TokenResponse(
            access_token=SecretStr(str(issued["access_token"])),
            refresh_token=SecretStr(str(issued["refresh_token"])),
            expires_in=600,
        ),
        int(time.time()),
    )
    JsonFileTokenStore(tmp_path / ".cloud_tokens.json").save(session).unwrap()
    container = build_container(
        {
            "BASIC_MEMORY_CONFIG_DIR": str(tmp_path),
            "HOME": str(tmp_path),
            "BASIC_MEMORY_CLOUD_HOST": trickling_emulator.base_url,
            "BASIC_MEMORY_CLOUD_DOMAIN": trickling_emulator.base_url,
        }
    )
    shared = SharedClient(deadline=2.0)
    container.http_client.override(providers.Object(shared))
    trickling_emulator.trickle_next("/proxy/health", every_seconds=0.5)

    report = container.status().execute()

    assert report.cloud is not None
    failure = report.cloud.result.failure()
    assert failure == ServiceUnreachable("the cloud API", "no complete answer within 2 s")
    assert "\n" not in failure.message
    shared.close()
