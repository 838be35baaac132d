"""CloudApi contract: the fake and the httpx adapter on the real emulator behave the same.

Every case gets its credentials from a driver: the emulator's driver signs users in and issues
keys through its control methods; the fake's driver tells the fake what to accept. A case that
only the fake fails means the fake tells the unit tests something untrue: fix the fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.httpx_cloud_api import HttpxCloudApi
from domain.api_key import parse_api_key
from domain.credentials import Credential, CredentialSource
from domain.errors import CredentialRejected, SubscriptionRequired
from domain.ports import CloudApi, HealthReport
from tests.contract.local_cloud import CloudEmulator, running_emulator
from tests.fakes import FakeClock, FakeCloudApi

SESSION = CredentialSource.OAUTH_SESSION
NEVER_ISSUED_KEY = "bmc_neverissued12345678"


class Driver(Protocol):
    """A cloud, and where its credentials come from."""

    cloud: CloudApi
    # Where a person without a subscription is sent.
    subscribe_url: str

    def session(self) -> SecretStr:
        """The access token of a signed-in user with a subscription."""
        ...

    def session_without_subscription(self) -> SecretStr:
        """The access token of a signed-in user whose subscription has ended."""
        ...

    def api_key(self) -> SecretStr:
        """A `bmc_` key the cloud issued to a user with a subscription."""
        ...


@dataclass
class FakeDriver:
    """The fake accepts what it is told to; its health answer can be scripted."""

    cloud: FakeCloudApi = field(default_factory=FakeCloudApi)
    subscribe_url: str = "https://basicmemory.com/subscribe"

    def session(self) -> SecretStr:
        self.cloud.accepted.add("access-1")
        return SecretStr("access-1")

    def session_without_subscription(self) -> SecretStr:
        self.cloud.accepted.add("access-9")
        self.cloud.health_override = Failure(SubscriptionRequired(self.subscribe_url))
        return SecretStr("access-9")

    def api_key(self) -> SecretStr:
        self.cloud.accepted.add("bmc_issuedkey12345678")
        return SecretStr("bmc_issuedkey12345678")


@dataclass
class EmulatorDriver:
    """The emulator's users sign in and get keys through its control methods."""

    cloud: HttpxCloudApi
    emulator: CloudEmulator

    @property
    def subscribe_url(self) -> str:
        return f"{self.emulator.base_url}/subscribe"

    def session(self) -> SecretStr:
        return SecretStr(str(self.emulator.issue_session()["access_token"]))

    def session_without_subscription(self) -> SecretStr:
        token = self.session()
        self.emulator.set_subscription(self.emulator.settings.default_email, active=False)
        return token

    def api_key(self) -> SecretStr:
        return SecretStr(self.emulator.issue_api_key())


@pytest.fixture(params=["fake", "httpx-emulator"])
def driver(request: pytest.FixtureRequest, http_client: httpx.Client) -> Iterator[Driver]:
    if request.param == "fake":
        yield FakeDriver()
        return
    clock = FakeClock()
    with (
        running_emulator(clock) as emulator,
        HttpxCloudApi(emulator.base_url, clock, http_client) as cloud,
    ):
        yield EmulatorDriver(cloud, emulator)


# -- check_health ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [SESSION, CredentialSource.CONFIG_API_KEY])
def test_a_subscriber_is_healthy(driver: Driver, source: CredentialSource) -> None:
    secret = driver.session() if source is SESSION else driver.api_key()

    report = driver.cloud.check_health(Credential(source, secret))

    assert isinstance(report, Success)
    assert isinstance(report.unwrap(), HealthReport)
    assert report.unwrap().latency_ms >= 0


def test_a_user_without_a_subscription_is_sent_to_subscribe(driver: Driver) -> None:
    token = driver.session_without_subscription()

    refused = driver.cloud.check_health(Credential(SESSION, token))

    assert isinstance(refused, Failure)
    assert isinstance(refused.failure(), SubscriptionRequired)
    assert refused.failure().subscribe_url == driver.subscribe_url


@pytest.mark.parametrize(
    ("source", "secret", "named"),
    [
        (SESSION, "not-a-token", "OAuth session"),
        (CredentialSource.ENV_API_KEY, NEVER_ISSUED_KEY, "API key from BASIC_MEMORY_CLOUD_API_KEY"),
        (CredentialSource.CONFIG_API_KEY, NEVER_ISSUED_KEY, "API key from config.yaml"),
    ],
    ids=["session", "env-key", "config-key"],
)
def test_a_credential_the_cloud_never_issued_is_rejected_by_its_source(
    driver: Driver, source: CredentialSource, secret: str, named: str
) -> None:
    refused = driver.cloud.check_health(Credential(source, SecretStr(secret)))

    assert refused == Failure(CredentialRejected(named))


# -- create_api_key ----------------------------------------------------------------------------


def test_a_session_creates_a_valid_key_that_then_works(driver: Driver) -> None:
    created = driver.cloud.create_api_key(driver.session(), "laptop").unwrap()

    raw = created.key.value.get_secret_value()
    assert parse_api_key(raw) == Success(created.key)
    assert created.name == "laptop"
    health = driver.cloud.check_health(
        Credential(CredentialSource.CONFIG_API_KEY, created.key.value)
    )
    assert isinstance(health, Success)


def test_an_api_key_cannot_create_keys(driver: Driver) -> None:
    refused = driver.cloud.create_api_key(driver.api_key(), "nested")

    assert refused == Failure(CredentialRejected("OAuth session"))


def test_a_key_the_cloud_just_created_cannot_create_keys_either(driver: Driver) -> None:
    created = driver.cloud.create_api_key(driver.session(), "laptop").unwrap()

    refused = driver.cloud.create_api_key(created.key.value, "nested")

    assert refused == Failure(CredentialRejected("OAuth session"))


def test_an_unknown_session_cannot_create_keys(driver: Driver) -> None:
    refused = driver.cloud.create_api_key(SecretStr("not-a-token"), "laptop")

    assert refused == Failure(CredentialRejected("OAuth session"))


# -- list_workspaces ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [SESSION, CredentialSource.CONFIG_API_KEY])
def test_a_subscriber_lists_workspaces_with_a_default_among_them(
    driver: Driver, source: CredentialSource
) -> None:
    secret = driver.session() if source is SESSION else driver.api_key()

    listing = driver.cloud.list_workspaces(Credential(source, secret)).unwrap()

    assert listing.workspaces, "a new account has its personal workspace"
    ids = [workspace.tenant_id for workspace in listing.workspaces]
    assert len(ids) == len(set(ids))
    assert all(workspace.name for workspace in listing.workspaces)
    if listing.default_workspace_id is not None:
        assert listing.find(listing.default_workspace_id) is not None


@pytest.mark.parametrize(
    ("source", "secret", "named"),
    [
        (SESSION, "not-a-token", "OAuth session"),
        (CredentialSource.CONFIG_API_KEY, NEVER_ISSUED_KEY, "API key from config.yaml"),
    ],
    ids=["session", "config-key"],
)
def test_listing_workspaces_with_a_credential_never_issued_is_rejected_by_its_source(
    driver: Driver, source: CredentialSource, secret: str, named: str
) -> None:
    refused = driver.cloud.list_workspaces(Credential(source, SecretStr(secret)))

    assert refused == Failure(CredentialRejected(named))
