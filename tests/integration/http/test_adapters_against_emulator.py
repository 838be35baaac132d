"""The httpx adapters against the real local cloud emulator, driven through its control API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.httpx_cloud_api import SERVICE as CLOUD
from adapters.httpx_cloud_api import HttpxCloudApi
from adapters.httpx_identity_provider import SERVICE as SIGN_IN
from adapters.httpx_identity_provider import HttpxIdentityProvider
from adapters.system_clock import SystemClock
from domain.credentials import Credential, CredentialSource
from domain.endpoints import CloudEndpoints
from domain.errors import (
    AccessDenied,
    CredentialRejected,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
    SubscriptionRequired,
)
from domain.pkce import s256_challenge
from domain.polling import AuthorizationPending, SlowDown
from domain.ports import PollFailure
from domain.session import TokenResponse, session_from_response
from emulator import DEFAULT_CLIENT_ID, CloudEmulator, EmulatorSettings
from emulator.settings import ALICE_EMAIL, BOB_EMAIL

CHALLENGE = s256_challenge("a-verifier-that-is-long-enough-for-pkce-0123456789")
SETTINGS = EmulatorSettings(interval=0.05, code_ttl=5.0, token_ttl=300.0, slow_down_step=0.1)


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(SETTINGS) as running:
        yield running


@pytest.fixture
def control(emulator: CloudEmulator) -> Iterator[httpx.Client]:
    """The emulator's HTTP control API, as a test or a script would use it."""
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture
def provider(emulator: CloudEmulator) -> Iterator[HttpxIdentityProvider]:
    endpoints = CloudEndpoints(emulator.base_url, emulator.base_url, DEFAULT_CLIENT_ID)
    with HttpxIdentityProvider(endpoints, timeout=2.0) as adapter:
        yield adapter


@pytest.fixture
def cloud(emulator: CloudEmulator) -> Iterator[HttpxCloudApi]:
    with HttpxCloudApi(emulator.base_url, SystemClock(), timeout=2.0) as adapter:
        yield adapter


def _control(control: httpx.Client, route: str, **payload: object) -> None:
    response = control.post(f"/_emulator/{route}", json=payload)
    assert response.status_code == 200, response.text


def _poll_patiently(
    provider: HttpxIdentityProvider, device_code: SecretStr, verifier: str
) -> Result[TokenResponse, PollFailure]:
    """Poll until something other than 'keep waiting' or 'slow down' comes back."""
    wait = SETTINGS.interval * 1.5
    for _ in range(100):
        result = provider.poll_device_token(device_code, verifier)
        if not isinstance(result, Failure):
            return result
        failure = result.failure()
        if isinstance(failure, SlowDown):
            # A busy machine can bunch two polls together; back off as a client must.
            wait += SETTINGS.slow_down_step
        elif not isinstance(failure, AuthorizationPending):
            return result
        time.sleep(wait)
    raise AssertionError("the flow never finished")


def _login(
    provider: HttpxIdentityProvider, control: httpx.Client, email: str = ALICE_EMAIL
) -> TokenResponse:
    verifier = secrets.token_urlsafe(48)
    started = provider.start_device_authorization(s256_challenge(verifier)).unwrap()
    _control(control, "approve", user_code=started.user_code, email=email)
    time.sleep(SETTINGS.interval * 1.5)
    return _poll_patiently(provider, started.device_code, verifier).unwrap()


def test_device_flow_succeeds_after_approval(
    provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    verifier = secrets.token_urlsafe(48)

    started = provider.start_device_authorization(s256_challenge(verifier)).unwrap()
    pending = provider.poll_device_token(started.device_code, verifier)
    _control(control, "approve", user_code=started.user_code, email=BOB_EMAIL)
    time.sleep(SETTINGS.interval * 1.5)
    tokens = _poll_patiently(provider, started.device_code, verifier).unwrap()

    assert started.verification_uri.startswith("http://127.0.0.1:")
    assert started.user_code in (started.verification_uri_complete or "")
    assert started.interval == 1  # 0.05 s, rounded up to whole seconds
    assert pending == Failure(AuthorizationPending())
    assert tokens.refresh_token is not None
    assert tokens.email == BOB_EMAIL
    session = session_from_response(tokens, int(time.time()))
    assert session.email == BOB_EMAIL
    assert session.is_valid(time.time())


def test_polling_too_fast_is_told_to_slow_down() -> None:
    # A long interval, so the two back-to-back polls are too fast even on a loaded machine.
    with CloudEmulator(EmulatorSettings(interval=5.0)) as emulator:
        endpoints = CloudEndpoints(emulator.base_url, emulator.base_url, DEFAULT_CLIENT_ID)
        with HttpxIdentityProvider(endpoints, timeout=2.0) as provider:
            verifier = secrets.token_urlsafe(48)
            started = provider.start_device_authorization(s256_challenge(verifier)).unwrap()
            first = provider.poll_device_token(started.device_code, verifier)
            second = provider.poll_device_token(started.device_code, verifier)

    assert started.interval == 5
    assert first == Failure(AuthorizationPending())
    assert second == Failure(SlowDown())


def test_a_denied_code_ends_the_flow(
    provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    verifier = secrets.token_urlsafe(48)
    started = provider.start_device_authorization(s256_challenge(verifier)).unwrap()

    _control(control, "deny", user_code=started.user_code)
    time.sleep(SETTINGS.interval * 1.5)

    assert _poll_patiently(provider, started.device_code, verifier) == Failure(AccessDenied())


def test_a_wrong_verifier_is_a_provider_error(
    provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    verifier = secrets.token_urlsafe(48)
    started = provider.start_device_authorization(s256_challenge(verifier)).unwrap()
    _control(control, "approve", user_code=started.user_code)
    time.sleep(SETTINGS.interval * 1.5)

    result = provider.poll_device_token(started.device_code, secrets.token_urlsafe(48))

    assert isinstance(result, Failure)
    assert isinstance(result.failure(), ProviderError)
    assert started.device_code.get_secret_value() not in result.failure().message


def test_refresh_rotates_and_a_reused_token_ends_the_session(
    provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    first = _login(provider, control)
    assert first.refresh_token is not None

    second = provider.refresh(first.refresh_token).unwrap()
    reused = provider.refresh(first.refresh_token)

    assert second.refresh_token is not None
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert reused == Failure(SessionExpired())
    # Reuse revokes the whole family (RFC 9700 §4.14.2): the rotated token is dead too.
    assert provider.refresh(second.refresh_token) == Failure(SessionExpired())


def test_revoke_ends_the_session(provider: HttpxIdentityProvider, control: httpx.Client) -> None:
    tokens = _login(provider, control)
    assert tokens.refresh_token is not None

    assert provider.revoke(tokens.refresh_token) == Success(None)
    assert provider.revoke(SecretStr("never-issued")) == Success(None)
    assert provider.refresh(tokens.refresh_token) == Failure(SessionExpired())


def test_health_for_a_subscriber_a_non_subscriber_and_a_stranger(
    provider: HttpxIdentityProvider, control: httpx.Client, cloud: HttpxCloudApi
) -> None:
    alice = _login(provider, control, ALICE_EMAIL)
    bob = _login(provider, control, BOB_EMAIL)

    subscribed = cloud.check_health(Credential(CredentialSource.OAUTH_SESSION, alice.access_token))
    unsubscribed = cloud.check_health(Credential(CredentialSource.OAUTH_SESSION, bob.access_token))
    stranger = cloud.check_health(
        Credential(CredentialSource.ENV_API_KEY, SecretStr("bmc_notarealkey12345"))
    )

    assert isinstance(subscribed, Success)
    assert subscribed.unwrap().latency_ms >= 0
    assert isinstance(unsubscribed, Failure)
    assert isinstance(unsubscribed.failure(), SubscriptionRequired)
    assert unsubscribed.failure().subscribe_url.startswith(("http://127.0.0.1", "https://"))
    assert stranger == Failure(CredentialRejected("API key from BASIC_MEMORY_CLOUD_API_KEY"))


def test_subscribing_through_the_control_api_opens_the_door(
    provider: HttpxIdentityProvider, control: httpx.Client, cloud: HttpxCloudApi
) -> None:
    bob = Credential(
        CredentialSource.OAUTH_SESSION, _login(provider, control, BOB_EMAIL).access_token
    )
    assert isinstance(cloud.check_health(bob).failure(), SubscriptionRequired)

    _control(control, "subscription", email=BOB_EMAIL, active=True)

    assert isinstance(cloud.check_health(bob), Success)


def test_created_api_key_works_for_health(
    provider: HttpxIdentityProvider, control: httpx.Client, cloud: HttpxCloudApi
) -> None:
    alice = _login(provider, control)

    created = cloud.create_api_key(alice.access_token, "laptop").unwrap()
    health = cloud.check_health(Credential(CredentialSource.CONFIG_API_KEY, created.key.value))

    assert created.name == "laptop"
    assert created.key.value.get_secret_value().startswith("bmc_")
    assert isinstance(health, Success)
    assert cloud.create_api_key(created.key.value, "nested") == Failure(
        CredentialRejected("OAuth session")
    )


def test_injected_faults_map_to_retryable_failures(
    emulator: CloudEmulator, provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    _control(control, "faults", path="/oauth2/device_authorization", kind="status", status=503)
    server_error = provider.start_device_authorization(CHALLENGE)
    emulator.drop_next("/oauth2/device_authorization")
    dropped = provider.start_device_authorization(CHALLENGE)

    assert server_error == Failure(ServerError(SIGN_IN, 503))
    assert dropped == Failure(
        ServiceUnreachable(SIGN_IN, "the connection closed before a complete answer")
    )
    assert isinstance(provider.start_device_authorization(CHALLENGE), Success)


def test_a_hanging_cloud_times_out(emulator: CloudEmulator) -> None:
    emulator.hang_next("/proxy/health", seconds=3.0)
    credential = Credential(CredentialSource.ENV_API_KEY, SecretStr("bmc_whateverkey1234"))

    with HttpxCloudApi(emulator.base_url, SystemClock(), timeout=0.3) as adapter:
        result = adapter.check_health(credential)

    assert result == Failure(ServiceUnreachable(CLOUD, "timed out after 0.3s"))


def test_the_emulator_log_records_the_grants_the_adapter_made(
    emulator: CloudEmulator, provider: HttpxIdentityProvider, control: httpx.Client
) -> None:
    tokens = _login(provider, control)
    assert tokens.refresh_token is not None
    provider.refresh(tokens.refresh_token).unwrap()

    log = emulator.request_log()

    grants = [entry.grant_type for entry in log if entry.path == "/oauth2/token"]
    assert grants[-1] == "refresh_token"
    assert set(grants) == {"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}
    assert tokens.access_token.get_secret_value() not in repr(log)
