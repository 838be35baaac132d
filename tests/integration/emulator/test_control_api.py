"""The HTTP control API under `/_emulator/`, as scripts and other processes use it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from emulator import CloudEmulator
from tests.integration.emulator.emulator_driver import DeviceFlow, jwt_claims


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def test_codes_are_listed_and_approved_over_http(flow: DeviceFlow, client: httpx.Client) -> None:
    started = flow.start()
    codes = _ok(client.get("/_emulator/device_codes"))["device_codes"]
    assert codes == [
        {
            "user_code": started.user_code,
            "status": "pending",
            "client_id": "client_01K6KWQPW6J1M8VV7R3TZP5A6M",
            "interval": 0.05,
            "expires_in": pytest.approx(5, abs=1),
        }
    ]

    _ok(
        client.post(
            "/_emulator/approve", json={"user_code": started.user_code, "email": "bob@example.com"}
        )
    )

    assert flow.poll(started).json()["user"]["email"] == "bob@example.com"


def test_deny_over_http(flow: DeviceFlow, client: httpx.Client) -> None:
    started = flow.start()
    _ok(client.post("/_emulator/deny", json={"user_code": started.user_code.lower()}))
    assert flow.poll(started).json()["error"] == "access_denied"


def test_subscription_sessions_expiry_and_refresh_count_over_http(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    tokens = flow.login()
    _ok(
        client.post("/_emulator/subscription", json={"email": "alice@example.com", "active": False})
    )
    assert flow.health(tokens["access_token"]).status_code == 403
    users = _ok(client.get("/_emulator/users"))["users"]
    assert {"email": "alice@example.com", "subscribed": False}.items() <= users[0].items()

    sessions = _ok(client.get("/_emulator/sessions"))["sessions"]
    sid = jwt_claims(tokens["access_token"])["sid"]
    assert sessions == [
        {
            "session_id": sid,
            "email": "alice@example.com",
            "client_id": "client_01K6KWQPW6J1M8VV7R3TZP5A6M",
            "active": True,
        }
    ]
    assert _ok(client.post("/_emulator/expire_session", json={"session_id": sid})) == {"expired": 1}
    assert flow.health(tokens["access_token"]).status_code == 401

    _ok(client.post("/_emulator/token_ttl", json={"seconds": 7}))
    assert flow.refresh(tokens["refresh_token"]).json()["expires_in"] == 7
    assert _ok(client.get("/_emulator/refresh_count")) == {"refresh_count": 1}


def test_faults_over_http(client: httpx.Client) -> None:
    _ok(
        client.post(
            "/_emulator/faults",
            json={"path": "/proxy/health", "kind": "status", "status": 500, "count": 2},
        )
    )
    _ok(
        client.post(
            "/_emulator/faults", json={"path": "/proxy/health", "kind": "delay", "seconds": 0.2}
        )
    )
    _ok(client.post("/_emulator/faults", json={"path": "/proxy/health", "kind": "drop"}))
    assert [client.get("/proxy/health").status_code for _ in range(2)] == [500, 500]
    started = time.monotonic()
    assert client.get("/proxy/health").status_code == 401
    assert time.monotonic() - started >= 0.2
    with pytest.raises(httpx.TransportError):
        client.get("/proxy/health")

    _ok(client.post("/_emulator/faults", json={"path": "*", "kind": "hang", "seconds": 9}))
    _ok(client.post("/_emulator/clear_faults", json={}))
    assert client.get("/proxy/health").status_code == 401
    log = _ok(client.get("/_emulator/log"))["requests"]
    assert [entry["fault"] for entry in log] == ["status", "status", "delay", "drop", None]


def test_issue_shortcuts_and_reset(
    flow: DeviceFlow, client: httpx.Client, emulator: CloudEmulator
) -> None:
    tokens = _ok(client.post("/_emulator/issue_session", json={"email": "bob@example.com"}))
    key = _ok(
        client.post("/_emulator/issue_api_key", json={"email": "alice@example.com", "name": "ci"})
    )
    assert flow.health(tokens["access_token"]).status_code == 403
    assert flow.health(key["key"]).status_code == 200
    flow.start()

    _ok(client.post("/_emulator/reset", json={}))

    assert emulator.user_codes() == []
    assert emulator.request_log() == []
    assert flow.health(tokens["access_token"]).status_code == 401
    assert flow.health(key["key"]).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/_emulator/approve", {"user_code": "BCDF-GHJK"}, 404),
        ("/_emulator/approve", {}, 400),
        ("/_emulator/approve", None, 400),
        ("/_emulator/subscription", {"email": "nobody@example.com", "active": True}, 404),
        ("/_emulator/subscription", {"email": "alice@example.com", "active": "yes"}, 400),
        ("/_emulator/expire_session", {}, 400),
        ("/_emulator/token_ttl", {"seconds": -1}, 400),
        ("/_emulator/token_ttl", {"seconds": True}, 400),
        ("/_emulator/faults", {"path": "/x", "kind": "explode"}, 400),
        ("/_emulator/faults", {"path": "/x", "kind": "drop", "count": 0}, 400),
        ("/_emulator/faults", {"path": "/x", "kind": "drop", "count": 1.5}, 400),
        ("/_emulator/issue_session", {"email": "nobody@example.com"}, 404),
    ],
)
def test_control_mistakes_are_4xx_json(
    client: httpx.Client, path: str, body: object, status: int
) -> None:
    # The header is explicit because `None` sends no body, and then httpx sets no type.
    response = client.post(path, json=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] in ("not_found", "invalid_request")


def test_approving_an_already_approved_code_is_refused(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    started = flow.start()
    _ok(client.post("/_emulator/approve", json={"user_code": started.user_code}))
    again = client.post("/_emulator/approve", json={"user_code": started.user_code})
    assert again.status_code == 400
    assert "cannot be decided" in again.json()["error_description"]


def test_the_index_names_the_urls(client: httpx.Client, emulator: CloudEmulator) -> None:
    body = _ok(client.get("/"))
    assert body["cloud_host"] == body["cloud_domain"] == emulator.base_url
    assert body["verification_uri"] == f"{emulator.base_url}/device"
