"""IdentityProvider contract: the fake and the httpx adapter on the real emulator behave the same.

Every case puts the provider in a situation through a driver: the emulator's driver uses its
control methods and a clock it shares with the test (a five-minute code expires without
waiting); the fake's driver scripts the answer the real provider gives there. A case that only
the fake fails means the fake tells the unit tests something untrue: fix the fake, not the case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.http_transport import is_safe_web_url
from adapters.httpx_identity_provider import HttpxIdentityProvider
from domain.errors import AccessDenied, DeviceCodeExpired, ProviderError, SessionExpired
from domain.pkce import s256_challenge
from domain.polling import AuthorizationPending, SlowDown
from domain.ports import DeviceAuthorization, IdentityProvider, PollFailure
from domain.session import TokenResponse
from tests.contract.local_cloud import CloudEmulator, endpoints, running_emulator
from tests.fakes import FakeClock, FakeIdentityProvider, token_response

VERIFIER = "contract-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
OTHER_VERIFIER = "another-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"


class Driver(Protocol):
    """A provider, and what the person and the server do around it."""

    provider: IdentityProvider
    clock: FakeClock

    def approve(self, started: DeviceAuthorization) -> None:
        """The person approves the code in the browser."""
        ...

    def deny(self, started: DeviceAuthorization) -> None:
        """The person denies it."""
        ...

    def expire(self, started: DeviceAuthorization) -> None:
        """The code's `expires_in` passes without a decision."""
        ...

    def hurry(self) -> None:
        """The next poll comes before the interval has passed."""
        ...

    def unknown_refresh_token(self) -> SecretStr:
        """A refresh token the provider never issued."""
        ...


@dataclass
class FakeDriver:
    """The fake answers from a script: each move scripts what the real provider answers."""

    clock: FakeClock
    provider: FakeIdentityProvider = field(init=False)

    def __post_init__(self) -> None:
        self.provider = FakeIdentityProvider(
            self.clock,
            polls=[Failure(AuthorizationPending())],
            # A refresh rotates both tokens.
            refreshes=[Success(token_response("access-2", "refresh-2"))],
        )

    def approve(self, started: DeviceAuthorization) -> None:
        self.provider.polls = [Success(token_response("access-1", "refresh-1"))]

    def deny(self, started: DeviceAuthorization) -> None:
        self.provider.polls = [Failure(AccessDenied())]

    def expire(self, started: DeviceAuthorization) -> None:
        self.clock.advance(started.expires_in)
        self.provider.polls = [Failure(DeviceCodeExpired())]

    def hurry(self) -> None:
        self.provider.polls = [Failure(SlowDown())]

    def unknown_refresh_token(self) -> SecretStr:
        self.provider.refreshes = [Failure(SessionExpired())]
        return SecretStr("never-issued")


@dataclass
class EmulatorDriver:
    """The emulator decides by itself, on the shared clock; the person acts through it."""

    provider: HttpxIdentityProvider
    emulator: CloudEmulator
    clock: FakeClock

    def approve(self, started: DeviceAuthorization) -> None:
        self.emulator.approve(started.user_code)

    def deny(self, started: DeviceAuthorization) -> None:
        self.emulator.deny(started.user_code)

    def expire(self, started: DeviceAuthorization) -> None:
        self.clock.advance(started.expires_in)

    def hurry(self) -> None:
        """Nothing to do: the clock has not moved since the last poll."""

    def unknown_refresh_token(self) -> SecretStr:
        return SecretStr("never-issued")


@pytest.fixture(params=["fake", "httpx-emulator"])
def driver(request: pytest.FixtureRequest, http_client: httpx.Client) -> Iterator[Driver]:
    clock = FakeClock()
    if request.param == "fake":
        yield FakeDriver(clock)
        return
    with (
        running_emulator(clock) as emulator,
        HttpxIdentityProvider(endpoints(emulator), http_client) as provider,
    ):
        yield EmulatorDriver(provider, emulator, clock)


def start(driver: Driver) -> DeviceAuthorization:
    return driver.provider.start_device_authorization(s256_challenge(VERIFIER)).unwrap()


def wait_interval(driver: Driver, started: DeviceAuthorization) -> None:
    """Let the polling interval pass, as a well-behaved client does between polls."""
    driver.clock.advance(started.interval or 5)


def poll(
    driver: Driver, started: DeviceAuthorization, verifier: str = VERIFIER
) -> Result[TokenResponse, PollFailure]:
    return driver.provider.poll_device_token(started.device_code, verifier)


def signed_in(driver: Driver) -> TokenResponse:
    """The tokens of a completed device flow."""
    started = start(driver)
    driver.approve(started)
    wait_interval(driver, started)
    return poll(driver, started).unwrap()


def refresh_token_of(tokens: TokenResponse) -> SecretStr:
    assert tokens.refresh_token is not None
    return tokens.refresh_token


# -- start_device_authorization ----------------------------------------------------------------


def test_start_gives_a_secret_device_code_a_user_code_and_where_to_enter_it(
    driver: Driver,
) -> None:
    started = start(driver)

    assert started.device_code.get_secret_value()
    assert started.device_code.get_secret_value() not in repr(started)
    assert started.user_code.strip() == started.user_code != ""
    assert is_safe_web_url(started.verification_uri)
    assert is_safe_web_url(started.url_to_open)
    assert started.user_code in started.url_to_open
    assert started.expires_in > 0
    assert started.interval is None or started.interval > 0


# -- poll_device_token -------------------------------------------------------------------------


def test_a_code_nobody_has_decided_on_is_pending(driver: Driver) -> None:
    started = start(driver)

    assert poll(driver, started) == Failure(AuthorizationPending())


def test_polls_an_interval_apart_stay_pending(driver: Driver) -> None:
    started = start(driver)
    poll(driver, started)
    wait_interval(driver, started)

    assert poll(driver, started) == Failure(AuthorizationPending())


def test_a_poll_before_the_interval_has_passed_is_told_to_slow_down(driver: Driver) -> None:
    started = start(driver)
    assert poll(driver, started) == Failure(AuthorizationPending())
    driver.hurry()

    assert poll(driver, started) == Failure(SlowDown())


def test_a_denied_code_is_access_denied(driver: Driver) -> None:
    started = start(driver)
    driver.deny(started)
    wait_interval(driver, started)

    assert poll(driver, started) == Failure(AccessDenied())


def test_a_code_past_its_lifetime_is_expired(driver: Driver) -> None:
    started = start(driver)
    driver.expire(started)

    assert poll(driver, started) == Failure(DeviceCodeExpired())


def test_an_approved_code_gives_a_session(driver: Driver) -> None:
    tokens = signed_in(driver)

    assert tokens.access_token.get_secret_value()
    assert refresh_token_of(tokens).get_secret_value()
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in is not None
    assert tokens.expires_in > 0
    assert tokens.user_id
    assert tokens.email


def test_an_approved_code_polled_with_another_verifier_is_refused(driver: Driver) -> None:
    """PKCE: only the holder of the verifier behind the challenge gets the tokens."""
    started = start(driver)
    driver.approve(started)
    wait_interval(driver, started)

    refused = poll(driver, started, OTHER_VERIFIER)

    assert isinstance(refused, Failure)
    assert isinstance(refused.failure(), ProviderError)
    assert refused.failure().error == "invalid_grant"


# -- refresh -----------------------------------------------------------------------------------


def test_a_refresh_rotates_both_tokens(driver: Driver) -> None:
    tokens = signed_in(driver)

    refreshed = driver.provider.refresh(refresh_token_of(tokens)).unwrap()

    assert refreshed.access_token != tokens.access_token
    assert refresh_token_of(refreshed) != refresh_token_of(tokens)


def test_a_spent_refresh_token_is_session_expired(driver: Driver) -> None:
    spent = refresh_token_of(signed_in(driver))
    driver.provider.refresh(spent).unwrap()

    assert driver.provider.refresh(spent) == Failure(SessionExpired())


def test_an_unknown_refresh_token_is_session_expired(driver: Driver) -> None:
    unknown = driver.unknown_refresh_token()

    assert driver.provider.refresh(unknown) == Failure(SessionExpired())


# -- revoke ------------------------------------------------------------------------------------


def test_a_revoked_refresh_token_is_then_refused(driver: Driver) -> None:
    revoked = refresh_token_of(signed_in(driver))

    assert driver.provider.revoke(revoked) == Success(None)
    assert driver.provider.refresh(revoked) == Failure(SessionExpired())


def test_revoking_a_token_the_provider_does_not_know_succeeds(driver: Driver) -> None:
    """RFC 7009 §2.2: the answer says nothing about whether the token existed."""
    assert driver.provider.revoke(SecretStr("never-issued")) == Success(None)
