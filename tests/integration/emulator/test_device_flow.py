"""The emulator's device authorization and device-code grant, over real sockets (RFC 8628, 7636)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from emulator import DEFAULT_CLIENT_ID, CloudEmulator, EmulatorSettings
from tests.fakes import FakeClock
from tests.integration.emulator.emulator_driver import (
    DEVICE_GRANT,
    FAST,
    DeviceFlow,
    Started,
    http_client,
    jwt_claims,
    pkce_pair,
)

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    return str(body["error"])


def test_device_authorization_answers_every_rfc_8628_field(
    flow: DeviceFlow, emulator: CloudEmulator
) -> None:
    body = flow.start().body

    assert USER_CODE.match(str(body["user_code"]))
    assert body["verification_uri"] == f"{emulator.base_url}/device"
    assert body["verification_uri_complete"] == (
        f"{emulator.base_url}/device?user_code={body['user_code']}"
    )
    assert body["expires_in"] == 5
    assert body["interval"] == 0.05
    assert len(str(body["device_code"])) >= 32
    assert emulator.user_codes() == [body["user_code"]]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "client_unknown"}, "invalid_client"),
        ({}, "invalid_request"),
        (
            {"client_id": DEFAULT_CLIENT_ID, "code_challenge": "x" * 43},
            "invalid_request",
        ),
        (
            {
                "client_id": DEFAULT_CLIENT_ID,
                "code_challenge": "x" * 43,
                "code_challenge_method": "plain",
            },
            "invalid_request",
        ),
        (
            {
                "client_id": DEFAULT_CLIENT_ID,
                "code_challenge": "not base64url!",
                "code_challenge_method": "S256",
            },
            "invalid_request",
        ),
        ({"client_id": DEFAULT_CLIENT_ID, "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_device_authorization_refuses_bad_requests(
    client: httpx.Client, form: dict[str, str], error: str
) -> None:
    assert _error(client.post("/oauth2/device_authorization", data=form)) == error


def test_repeated_parameters_are_invalid_request(client: httpx.Client) -> None:
    body = f"client_id={DEFAULT_CLIENT_ID}&client_id={DEFAULT_CLIENT_ID}"
    response = client.post(
        "/oauth2/device_authorization",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert _error(response) == "invalid_request"


def test_a_configured_extra_client_id_is_known(
    start_emulator: Callable[..., CloudEmulator],
) -> None:
    emulator = start_emulator(replace(FAST, extra_client_ids=("client_test",)))
    with http_client(emulator.base_url) as client:
        assert DeviceFlow(client, emulator).start(client_id="client_test").user_code


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": DEFAULT_CLIENT_ID}, "invalid_request"),
        ({"grant_type": DEVICE_GRANT}, "invalid_request"),
        ({"grant_type": DEVICE_GRANT, "client_id": "nope", "device_code": "x"}, "invalid_client"),
        ({"grant_type": "password", "client_id": DEFAULT_CLIENT_ID}, "unsupported_grant_type"),
        ({"grant_type": DEVICE_GRANT, "client_id": DEFAULT_CLIENT_ID}, "invalid_request"),
        (
            {"grant_type": DEVICE_GRANT, "client_id": DEFAULT_CLIENT_ID, "device_code": "x"},
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "client_id": DEFAULT_CLIENT_ID}, "invalid_request"),
    ],
)
def test_token_endpoint_refuses_bad_requests(
    client: httpx.Client, form: dict[str, str], error: str
) -> None:
    assert _error(client.post("/oauth2/token", data=form)) == error


def test_pending_then_approved_then_consumed(flow: DeviceFlow, emulator: CloudEmulator) -> None:
    started = flow.start()
    assert _error(flow.poll(started)) == "authorization_pending"

    emulator.approve(started.user_code)
    time.sleep(0.05)
    response = flow.poll(started)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 60
    assert isinstance(body["refresh_token"], str)
    assert body["user"] == {
        "id": "user_01K6KWR2A7M9ZQ3C5D8E0F1G2H",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Example",
    }
    claims = jwt_claims(body["access_token"])
    assert claims["sub"] == body["user"]["id"]
    assert claims["email"] == "alice@example.com"
    assert str(claims["sid"]).startswith("session_01")
    assert claims["exp"] - claims["iat"] == 60

    time.sleep(0.05)
    assert _error(flow.poll(started)) == "invalid_grant"
    assert [info.status for info in emulator.device_codes()] == ["consumed"]


def test_approval_can_choose_the_user(flow: DeviceFlow) -> None:
    assert flow.login("bob@example.com")["user"]["email"] == "bob@example.com"


@pytest.fixture
def timed_flow(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> Iterator[DeviceFlow]:
    """A flow on an emulator whose clock moves only when the test says: no timing flakes."""
    emulator = start_emulator(FAST, clock)
    with http_client(emulator.base_url) as client:
        yield DeviceFlow(client, emulator)


def test_polling_faster_than_the_interval_gets_slow_down_and_the_interval_grows(
    timed_flow: DeviceFlow, clock: FakeClock
) -> None:
    flow = timed_flow
    started = flow.start()
    assert _error(flow.poll(started)) == "authorization_pending"
    clock.advance(0.03)
    assert _error(flow.poll(started)) == "slow_down"
    assert flow.emulator.device_codes()[0].interval == pytest.approx(0.15)

    # The old interval is no longer enough: the code's own interval grew.
    clock.advance(0.06)
    assert _error(flow.poll(started)) == "slow_down"
    assert flow.emulator.device_codes()[0].interval == pytest.approx(0.25)

    clock.advance(0.25)
    assert _error(flow.poll(started)) == "authorization_pending"


def test_waiting_exactly_one_interval_is_not_punished(
    timed_flow: DeviceFlow, clock: FakeClock
) -> None:
    started = timed_flow.start()
    assert _error(timed_flow.poll(started)) == "authorization_pending"
    clock.advance(0.05)
    assert _error(timed_flow.poll(started)) == "authorization_pending"
    # A client's sleep may end a hair early; a fifth of the interval (at most 0.2 s) is forgiven.
    clock.advance(0.041)
    assert _error(timed_flow.poll(started)) == "authorization_pending"


def test_a_client_sleeping_one_interval_in_real_time_is_never_slowed(flow: DeviceFlow) -> None:
    started = flow.start()
    for _ in range(4):
        assert _error(flow.poll(started)) == "authorization_pending"
        time.sleep(0.05)


def test_slow_down_adds_five_seconds_by_default(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(EmulatorSettings(interval=0.05), clock)
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started = flow.start()
        flow.poll(started)
        assert _error(flow.poll(started)) == "slow_down"
    assert emulator.device_codes()[0].interval == pytest.approx(5.05)


def test_denied_code_gets_access_denied(flow: DeviceFlow, emulator: CloudEmulator) -> None:
    started = flow.start()
    emulator.deny(started.user_code)
    assert _error(flow.poll(started)) == "access_denied"
    with pytest.raises(ValueError, match="cannot be decided"):
        emulator.approve(started.user_code)


def test_code_expires_after_its_lifetime(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(FAST, clock)
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started = flow.start()
        clock.advance(4.9)
        assert _error(flow.poll(started)) == "authorization_pending"
        clock.advance(0.1)
        assert _error(flow.poll(started)) == "expired_token"
        with pytest.raises(ValueError, match="expired"):
            emulator.approve(started.user_code)
    assert emulator.device_codes()[0].status == "expired"


def test_an_approved_code_still_expires_if_never_collected(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(FAST, clock)
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started = flow.start()
        emulator.approve(started.user_code)
        clock.advance(5)
        assert _error(flow.poll(started)) == "expired_token"


def test_pkce_verifier_must_match(flow: DeviceFlow, emulator: CloudEmulator) -> None:
    started = flow.start()
    emulator.approve(started.user_code)
    wrong, _ = pkce_pair()

    assert _error(flow.poll(started, verifier=wrong)) == "invalid_grant"
    time.sleep(0.05)
    assert _error(flow.poll(started, verifier="")) == "invalid_grant"
    time.sleep(0.05)
    # A failed verifier does not burn the code: its rightful owner still gets the tokens.
    assert flow.poll(started).status_code == 200


def test_codes_without_pkce_work(client: httpx.Client, emulator: CloudEmulator) -> None:
    body = client.post("/oauth2/device_authorization", data={"client_id": DEFAULT_CLIENT_ID}).json()
    emulator.approve(body["user_code"])
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": body["device_code"],
            "client_id": DEFAULT_CLIENT_ID,
        },
    )
    assert response.status_code == 200


def test_a_device_code_belongs_to_its_client(
    start_emulator: Callable[..., CloudEmulator],
) -> None:
    emulator = start_emulator(replace(FAST, extra_client_ids=("client_other",)))
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started = flow.start(client_id="client_other")
        emulator.approve(started.user_code)
        # flow.poll sends the default client id, not the one the code was issued to.
        assert _error(flow.poll(started)) == "invalid_grant"


def test_auto_approve_signs_in_the_default_user_after_the_delay(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(replace(FAST, auto_approve_after=3.0), clock)
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started = flow.start()
        clock.advance(2.9)
        assert _error(flow.poll(started)) == "authorization_pending"
        clock.advance(0.1)
        response = flow.poll(started)
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "alice@example.com"


def test_auto_approve_in_real_time(start_emulator: Callable[..., CloudEmulator]) -> None:
    emulator = start_emulator(replace(FAST, auto_approve_after=0.1))
    with http_client(emulator.base_url) as client:
        flow = DeviceFlow(client, emulator)
        started: Started = flow.start()
        deadline = time.monotonic() + 2
        while (response := flow.poll(started)).status_code != 200:
            assert response.json()["error"] == "authorization_pending"
            assert time.monotonic() < deadline
            time.sleep(0.05)
