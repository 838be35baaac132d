"""CreateApiKey: only an OAuth session creates a key in the cloud, which is then stored."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from application.create_api_key import CreateApiKey
from application.ensure_fresh_session import EnsureFreshSession
from domain.config import AppConfig
from domain.errors import InvalidKeyName, NoCredential, SessionExpired
from domain.session import TokenSet
from tests.fakes import (
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
)

GOOD = "bmc_abcdefgh12345678"


def _creator(
    session: TokenSet | None, key: str | None = None
) -> tuple[CreateApiKey, InMemoryConfigStore, FakeCloudApi, FakeIdentityProvider]:
    clock = FakeClock()
    identity = FakeIdentityProvider(clock)
    fresh = EnsureFreshSession(InMemoryTokenStore(session), identity, clock)
    cloud = FakeCloudApi(accepted={"access-0"})
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(key) if key else None))
    return CreateApiKey(fresh, cloud, config), config, cloud, identity


def _session(expires_at: int, refresh: str | None = "refresh-0") -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-0"),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=expires_at,
    )


def test_create_needs_oauth_even_with_an_api_key_configured() -> None:
    creator, config, cloud, _ = _creator(None, key=GOOD)
    assert creator.execute("desktop-work").failure() == NoCredential("key_creation")
    assert cloud.created == []
    assert config.config.cloud_api_key == SecretStr(GOOD)


def test_create_with_a_session_stores_the_new_key() -> None:
    creator, config, cloud, _ = _creator(_session(2_000_000_000))
    outcome = creator.execute("desktop-work").unwrap()
    assert cloud.created == ["desktop-work"]
    assert outcome.masked.startswith("bmc_…")
    assert config.config.cloud_api_key is not None
    assert config.config.cloud_api_key.get_secret_value() in cloud.accepted


def test_create_with_an_expired_session_without_refresh_token_is_expired() -> None:
    creator, _, cloud, _ = _creator(_session(1_000, refresh=None))
    assert creator.execute("ci").failure() == SessionExpired()
    assert cloud.created == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"])
def test_create_refuses_bad_names(name: str) -> None:
    creator, _, cloud, _ = _creator(_session(2_000_000_000))
    assert isinstance(creator.execute(name).failure(), InvalidKeyName)
    assert cloud.created == []
