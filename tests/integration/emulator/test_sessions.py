"""Sessions in the emulator: rotating refresh tokens, family revocation, RFC 7009, token expiry."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from emulator import DEFAULT_CLIENT_ID, CloudEmulator
from emulator.jwt import encode
from tests.fakes import FakeClock
from tests.integration.emulator.emulator_driver import FAST, DeviceFlow, http_client, jwt_claims


def _revoke(client: httpx.Client, token: object, hint: str = "refresh_token") -> httpx.Response:
    return client.post(
        "/oauth2/revoke",
        data={"token": str(token), "token_type_hint": hint, "client_id": DEFAULT_CLIENT_ID},
    )


def test_each_refresh_rotates_both_tokens(flow: DeviceFlow, emulator: CloudEmulator) -> None:
    first = flow.login()
    second = flow.refresh(first["refresh_token"]).json()
    third = flow.refresh(second["refresh_token"]).json()

    refresh_tokens = {first["refresh_token"], second["refresh_token"], third["refresh_token"]}
    access_tokens = {first["access_token"], second["access_token"], third["access_token"]}
    assert len(refresh_tokens) == len(access_tokens) == 3
    assert jwt_claims(third["access_token"])["sid"] == jwt_claims(first["access_token"])["sid"]
    assert third["user"]["email"] == "alice@example.com"
    assert emulator.refresh_count() == 2
    # Rotation does not cut short the access tokens already out there.
    assert flow.health(first["access_token"]).status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    first = flow.login()
    second = flow.refresh(first["refresh_token"]).json()

    reuse = flow.refresh(first["refresh_token"])

    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert flow.refresh(second["refresh_token"]).json()["error"] == "invalid_grant"
    assert flow.health(first["access_token"]).status_code == 401
    assert flow.health(second["access_token"]).status_code == 401
    assert [session.active for session in emulator.sessions()] == [False]
    assert emulator.refresh_count() == 1


def test_other_sessions_survive_a_family_revocation(flow: DeviceFlow) -> None:
    victim, bystander = flow.login(), flow.login()
    flow.refresh(victim["refresh_token"])
    flow.refresh(victim["refresh_token"])
    assert flow.health(bystander["access_token"]).status_code == 200
    assert flow.refresh(bystander["refresh_token"]).status_code == 200


def test_refresh_requires_the_session_client(flow: DeviceFlow) -> None:
    tokens = flow.login()
    assert flow.refresh(tokens["refresh_token"], client_id="nope").json()["error"] == (
        "invalid_client"
    )
    assert flow.refresh("never-issued").json()["error"] == "invalid_grant"


def test_revoking_the_refresh_token_ends_the_session(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    tokens = flow.login()

    response = _revoke(client, tokens["refresh_token"])

    assert response.status_code == 200
    assert flow.health(tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_an_access_token_ends_only_that_token(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    tokens = flow.login()
    assert _revoke(client, tokens["access_token"], "access_token").status_code == 200
    assert flow.health(tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


def test_revocation_follows_rfc_7009_for_unknown_and_malformed_requests(
    client: httpx.Client,
) -> None:
    assert _revoke(client, "never-issued").status_code == 200
    missing = client.post("/oauth2/revoke", data={"client_id": DEFAULT_CLIENT_ID})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    unknown_client = client.post("/oauth2/revoke", data={"token": "x", "client_id": "nope"})
    assert unknown_client.json()["error"] == "invalid_client"


def test_access_tokens_expire_after_the_configured_lifetime(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(FAST, clock)
    emulator.set_token_ttl(30)
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        tokens = flow.login()
        assert tokens["expires_in"] == 30
        claims = jwt_claims(tokens["access_token"])
        assert claims["exp"] == int(clock.now()) + 30
        clock.advance(29.9)
        assert flow.health(tokens["access_token"]).status_code == 200
        clock.advance(0.1)
        assert flow.health(tokens["access_token"]).status_code == 401
        assert (
            flow.health(flow.refresh(tokens["refresh_token"]).json()["access_token"]).status_code
            == 200
        )


def test_expiring_a_session_rejects_its_access_tokens_until_refreshed(
    flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    tokens = flow.login()
    sid = jwt_claims(tokens["access_token"])["sid"]

    assert emulator.expire_sessions(session_id=sid) == 1

    assert flow.health(tokens["access_token"]).status_code == 401
    fresh = flow.refresh(tokens["refresh_token"]).json()
    assert flow.health(fresh["access_token"]).status_code == 200
    assert emulator.expire_sessions(email="alice@example.com") == 1
    assert flow.health(fresh["access_token"]).status_code == 401


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), id="sig"),
        pytest.param(lambda token: encode(json.loads(_payload(token)), b"guess"), id="secret"),
        pytest.param(lambda token: _swap_payload(token, {"sub": "x"}), id="claims"),
    ],
)
def test_forged_access_tokens_are_rejected(flow: DeviceFlow, forge: Callable[[str], str]) -> None:
    token = str(flow.login()["access_token"])
    assert flow.health(forge(token)).status_code == 401


def _payload(token: str) -> bytes:
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _swap_payload(token: str, claims: dict[str, object]) -> str:
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def test_the_control_api_refuses_one_access_token_before_it_expires(
    flow: DeviceFlow, emulator: CloudEmulator, client: httpx.Client
) -> None:
    first = flow.login()
    assert flow.health(first["access_token"]).status_code == 200
    refused = client.post(
        "/_emulator/refuse_access_token", json={"access_token": first["access_token"]}
    )
    assert refused.status_code == 200
    assert flow.health(first["access_token"]).status_code == 401
    # The session lives on: its refresh token still works and the new access token is good.
    second = flow.refresh(first["refresh_token"]).json()
    assert flow.health(second["access_token"]).status_code == 200
    assert emulator.state.is_current_refresh_token(second["refresh_token"])
    unknown = client.post("/_emulator/refuse_access_token", json={"access_token": "nope"})
    assert unknown.status_code == 404
