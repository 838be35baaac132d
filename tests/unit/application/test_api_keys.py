"""SaveApiKey, CreateApiKey and RemoveApiKey with in-memory stores."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from returns.result import Failure

from application.create_api_key import CreateApiKey
from application.ensure_fresh_session import EnsureFreshSession
from application.remove_api_key import RemoveApiKey
from application.save_api_key import SaveApiKey
from domain.config import AppConfig
from domain.errors import (
    CredentialRejected,
    InvalidApiKey,
    InvalidKeyName,
    LockTimeout,
    NoCredential,
    SessionExpired,
)
from domain.session import TokenSet
from tests.fakes import (
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
)

GOOD = "bmc_abcdefgh12345678"
OTHER = "bmc_zyxwvuts87654321"


@pytest.mark.parametrize("raw", ["sk_abcdefgh1234", "bmc_short", "bmc_has space12", ""])
def test_an_invalid_key_is_refused_and_nothing_is_written(raw: str) -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(OTHER)))
    result = SaveApiKey(config, FakeCloudApi()).execute(raw)
    assert isinstance(result.failure(), InvalidApiKey)
    assert config.writes == 0
    assert config.config.cloud_api_key == SecretStr(OTHER)


def test_save_strips_whitespace_and_stores_the_key() -> None:
    config = InMemoryConfigStore()
    saved = SaveApiKey(config, FakeCloudApi()).execute(f"  {GOOD}\n").unwrap()
    assert saved.masked == "bmc_…5678"
    assert saved.replaced is None
    assert config.config.cloud_api_key == SecretStr(GOOD)


def test_overwriting_a_different_key_says_which_one_was_replaced() -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(OTHER)))
    saved = SaveApiKey(config, FakeCloudApi()).execute(GOOD).unwrap()
    assert saved.replaced == "bmc_…4321"


def test_saving_the_same_key_again_is_unchanged() -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(GOOD)))
    assert SaveApiKey(config, FakeCloudApi()).execute(GOOD).unwrap().unchanged


def test_verify_with_a_rejected_key_saves_nothing() -> None:
    config = InMemoryConfigStore()
    result = SaveApiKey(config, FakeCloudApi()).execute(GOOD, verify=True)
    assert isinstance(result.failure(), CredentialRejected)
    assert config.config.cloud_api_key is None


def test_verify_with_an_accepted_key_saves_it() -> None:
    config = InMemoryConfigStore()
    SaveApiKey(config, FakeCloudApi(accepted={GOOD})).execute(GOOD, verify=True).unwrap()
    assert config.config.cloud_api_key == SecretStr(GOOD)


def test_a_storage_failure_is_reported() -> None:
    config = InMemoryConfigStore()
    config.broken = LockTimeout("/x/config.yaml", 10)
    assert SaveApiKey(config, FakeCloudApi()).execute(GOOD).failure() == LockTimeout(
        "/x/config.yaml", 10
    )


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


def test_remove_drops_the_stored_key_and_mentions_the_env_key() -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(GOOD), extra={"theme": "dark"}))
    removed = RemoveApiKey(config, {"BASIC_MEMORY_CLOUD_API_KEY": OTHER}).execute().unwrap()
    assert removed.removed == "bmc_…5678"
    assert removed.env_key_still_set
    assert config.config.cloud_api_key is None
    assert config.config.extra == {"theme": "dark"}


def test_remove_without_a_key_succeeds() -> None:
    removed = RemoveApiKey(InMemoryConfigStore(), {}).execute().unwrap()
    assert removed.removed is None
    assert not removed.env_key_still_set


def test_remove_reports_storage_failures() -> None:
    config = InMemoryConfigStore()
    config.broken = LockTimeout("/x/config.yaml", 10)
    assert isinstance(RemoveApiKey(config, {}).execute(), Failure)
