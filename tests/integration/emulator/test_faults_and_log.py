"""Fault injection, error hygiene and the secret-free request log of the emulator."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from emulator import DEFAULT_CLIENT_ID, CloudEmulator
from tests.integration.emulator.emulator_driver import DeviceFlow, http_client


def test_fail_next_answers_5xx_the_given_number_of_times(
    flow: DeviceFlow, client: httpx.Client, emulator: CloudEmulator
) -> None:
    started = flow.start()
    emulator.fail_next("/oauth2/token", status=503, count=2)

    statuses = [flow.poll(started).status_code for _ in range(2)]
    other = client.get("/proxy/health")
    time.sleep(0.05)
    after = flow.poll(started)

    assert statuses == [503, 503]
    assert other.status_code == 401  # other paths are untouched
    assert after.json()["error"] == "authorization_pending"
    faulted = [entry for entry in emulator.request_log() if entry.fault]
    assert [(entry.status, entry.fault) for entry in faulted] == [(503, "status")] * 2


def test_a_faulted_request_is_not_processed(flow: DeviceFlow, emulator: CloudEmulator) -> None:
    started = flow.start()
    emulator.approve(started.user_code)
    emulator.fail_next("/oauth2/token", status=500)
    assert flow.poll(started).status_code == 500
    # The 5xx came from "the gateway": the code was not consumed behind the client's back.
    assert flow.poll(started).status_code == 200


def test_delay_holds_the_answer(client: httpx.Client, emulator: CloudEmulator) -> None:
    emulator.delay_next("/proxy/health", 0.3)
    started = time.monotonic()
    assert client.get("/proxy/health").status_code == 401
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/proxy/health")
    assert time.monotonic() - started < 0.3


def test_drop_closes_the_connection_without_an_answer(
    client: httpx.Client, emulator: CloudEmulator
) -> None:
    emulator.drop_next("/oauth2/device_authorization")
    with pytest.raises(httpx.TransportError):
        client.post("/oauth2/device_authorization", data={"client_id": DEFAULT_CLIENT_ID})
    response = client.post("/oauth2/device_authorization", data={"client_id": DEFAULT_CLIENT_ID})
    assert response.status_code == 200
    assert emulator.request_log()[0].status is None
    assert emulator.request_log()[0].fault == "drop"


def test_hang_makes_the_client_time_out(emulator: CloudEmulator) -> None:
    emulator.hang_next("/oauth2/token", 5.0)
    with (
        http_client(emulator.base_url, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post("/oauth2/token", data={"grant_type": "refresh_token"})


def test_stopping_the_emulator_ends_a_hang_promptly(
    start_emulator: Callable[..., CloudEmulator],
) -> None:
    emulator = start_emulator()
    emulator.hang_next("*", 30.0)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            with http_client(emulator.base_url, timeout=10) as client:
                client.get("/proxy/health")
        except httpx.TransportError as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.1)
    started = time.monotonic()
    emulator.stop()
    caller.join(timeout=5)
    assert time.monotonic() - started < 1
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.TransportError)


def test_the_wildcard_fault_hits_any_path_but_never_the_control_api(
    client: httpx.Client, emulator: CloudEmulator
) -> None:
    emulator.fail_next("*", status=502, count=2)
    assert client.get("/_emulator/log").status_code == 200
    assert client.get("/device").status_code == 502
    assert client.get("/no/such/path").status_code == 502
    assert client.get("/device").status_code == 200


def test_faults_are_validated_and_clearable(client: httpx.Client, emulator: CloudEmulator) -> None:
    with pytest.raises(ValueError, match="5xx"):
        emulator.fail_next("/proxy/health", status=404)
    with pytest.raises(ValueError, match="control"):
        emulator.drop_next("/_emulator/log")
    emulator.fail_next("/proxy/health", count=3)
    emulator.clear_faults()
    assert client.get("/proxy/health").status_code == 401


def test_unknown_paths_and_methods_get_json(client: httpx.Client) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong_method = client.get("/oauth2/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    unsupported = client.request("OPTIONS", "/oauth2/token")
    assert unsupported.status_code == 501
    assert unsupported.json()["error"] == "invalid_request"


def test_a_bug_is_a_json_500_without_a_traceback(
    client: httpx.Client, emulator: CloudEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(emulator.state, "health", broken)
    response = client.get("/proxy/health")
    assert response.status_code == 500
    assert response.json() == {"error": "server_error", "error_description": "internal error"}
    assert client.get("/").status_code == 200  # the server lives on


def test_an_oversized_body_is_refused(emulator: CloudEmulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2) as raw:
        raw.sendall(
            b"POST /oauth2/token HTTP/1.1\r\n"
            + f"Host: 127.0.0.1:{emulator.port}\r\n".encode()
            + b"Content-Length: 99999999\r\n\r\n"
        )
        assert raw.recv(100).startswith(b"HTTP/1.1 413")


def test_a_malformed_request_gets_a_json_400(emulator: CloudEmulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2) as raw:
        raw.sendall(
            b"POST /oauth2/token HTTP/1.1\r\n"
            + f"Host: 127.0.0.1:{emulator.port}\r\n".encode()
            + b"Content-Length: -1\r\n\r\n"
        )
        answer = b"".join(iter(lambda: raw.recv(1000), b""))  # the server closes after it
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"error": "invalid_request"' in answer


def test_the_request_log_records_the_exchange_without_any_secret(
    flow: DeviceFlow, client: httpx.Client, emulator: CloudEmulator
) -> None:
    started = flow.start()
    flow.poll(started)
    client.get("/device", params={"user_code": started.user_code})
    client.post("/device", data={"user_code": started.user_code, "action": "approve"})
    time.sleep(0.05)
    tokens = flow.poll(started).json()
    refreshed = flow.refresh(tokens["refresh_token"]).json()
    key = client.post(
        "/api/keys",
        json={"name": "k"},
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
    ).json()["key"]
    flow.health(key)
    client.post(
        "/oauth2/revoke",
        data={"token": refreshed["refresh_token"], "client_id": DEFAULT_CLIENT_ID},
    )

    log = emulator.request_log()
    dumped = json.dumps([entry.as_json() for entry in log])
    dumped += json.dumps(client.get("/_emulator/log").json())
    secrets = [
        started.device_code,
        started.user_code,
        started.user_code.replace("-", ""),
        started.verifier,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        key,
    ]
    assert not [secret for secret in secrets if str(secret) in dumped]
    assert [(entry.method, entry.path, entry.status, entry.error) for entry in log] == [
        ("POST", "/oauth2/device_authorization", 200, None),
        ("POST", "/oauth2/token", 400, "authorization_pending"),
        ("GET", "/device", 200, None),
        ("POST", "/device", 200, None),
        ("POST", "/oauth2/token", 200, None),
        ("POST", "/oauth2/token", 200, None),
        ("POST", "/api/keys", 201, None),
        ("GET", "/proxy/health", 200, None),
        ("POST", "/oauth2/revoke", 200, None),
    ]
    assert [entry.grant_type for entry in log if entry.path == "/oauth2/token"] == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
    ]
    times = [entry.monotonic for entry in log]
    assert times == sorted(times)
    assert all(abs(entry.wall - time.time()) < 60 for entry in log)


def test_the_log_never_echoes_an_unknown_grant_type(
    client: httpx.Client, emulator: CloudEmulator
) -> None:
    client.post("/oauth2/token", data={"grant_type": "s3cret", "client_id": DEFAULT_CLIENT_ID})
    assert emulator.request_log()[0].grant_type is None
