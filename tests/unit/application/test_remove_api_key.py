"""RemoveApiKey: drop the stored key, keep the rest of the config, mention an environment key."""

from __future__ import annotations

from pydantic import SecretStr
from returns.result import Failure

from application.remove_api_key import RemoveApiKey
from domain.config import AppConfig
from domain.errors import LockTimeout
from tests.fakes import InMemoryConfigStore

GOOD = "bmc_abcdefgh12345678"
OTHER = "bmc_zyxwvuts87654321"


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
