"""The emulator's cloud API: /proxy/health with OAuth tokens and API keys, and /api/keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from emulator import CloudEmulator
from tests.integration.emulator.emulator_driver import FAST, DeviceFlow, http_client

KEY = re.compile(r"^bmc_[A-Za-z0-9_-]{32}$")


def _create_key(client: httpx.Client, credential: object, body: object) -> httpx.Response:
    return client.post("/api/keys", json=body, headers={"Authorization": f"Bearer {credential}"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6eA=="},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer bmc_neverIssuedneverIssuedneverIssued"},
        {"Authorization": "Bearer a.b.c"},
    ],
)
def test_health_rejects_missing_and_unknown_credentials(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.get("/proxy/health", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_health_is_ok_for_a_subscribed_user(flow: DeviceFlow) -> None:
    response = flow.health(flow.login()["access_token"])
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_says_subscription_required_for_bob(
    flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    response = flow.health(flow.login("bob@example.com")["access_token"])
    assert response.status_code == 403
    assert response.json() == {
        "detail": {
            "error": "subscription_required",
            "message": "Active subscription required",
            "subscribe_url": f"{emulator.base_url}/subscribe",
        }
    }


def test_subscription_can_be_toggled_for_live_credentials(
    flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    token = flow.login()["access_token"]
    emulator.set_subscription("alice@example.com", False)
    assert flow.health(token).status_code == 403
    emulator.set_subscription("alice@example.com", True)
    assert flow.health(token).status_code == 200
    with pytest.raises(LookupError):
        emulator.set_subscription("nobody@example.com", True)


def test_no_subscription_setting_unsubscribes_the_default_user(
    start_emulator: Callable[..., CloudEmulator],
) -> None:
    emulator = start_emulator(replace(FAST, default_user_subscribed=False))
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        assert flow.health(flow.login()["access_token"]).status_code == 403
    assert {user.email: user.subscribed for user in emulator.users()} == {
        "alice@example.com": False,
        "bob@example.com": False,
    }


def test_an_oauth_user_creates_a_key_that_health_accepts(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    token = flow.login()["access_token"]

    response = _create_key(client, token, {"name": "laptop"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "key", "created_at"}
    assert body["name"] == "laptop"
    assert KEY.match(body["key"])
    assert str(body["id"]).startswith("key_01")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", body["created_at"])
    assert flow.health(body["key"]).status_code == 200


def test_keys_outlive_the_oauth_session_and_follow_the_subscription(
    flow: DeviceFlow, client: httpx.Client, emulator: CloudEmulator
) -> None:
    tokens = flow.login("bob@example.com")
    key = _create_key(client, tokens["access_token"], {"name": "ci"}).json()["key"]
    client.post(
        "/oauth2/revoke",
        data={
            "token": str(tokens["refresh_token"]),
            "client_id": "client_01K6KWQPW6J1M8VV7R3TZP5A6M",
        },
    )
    assert flow.health(key).status_code == 403
    emulator.set_subscription("bob@example.com", True)
    assert flow.health(key).status_code == 200


def test_only_an_oauth_token_may_create_keys(
    flow: DeviceFlow, client: httpx.Client, emulator: CloudEmulator
) -> None:
    key = emulator.issue_api_key()
    assert _create_key(client, key, {"name": "x"}).status_code == 403
    assert _create_key(client, "bmc_unknownunknownunknown", {"name": "x"}).status_code == 401
    assert client.post("/api/keys", json={"name": "x"}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": 3}, ["name"], None])
def test_a_key_needs_a_name(flow: DeviceFlow, client: httpx.Client, body: object) -> None:
    response = _create_key(client, flow.login()["access_token"], body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_malformed_json_body_is_422(flow: DeviceFlow, client: httpx.Client) -> None:
    token = flow.login()["access_token"]
    response = client.post(
        "/api/keys",
        content=b"{name",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
