"""SaveApiKey: validate a `bmc_` key, optionally verify it with the cloud, then store it."""

from __future__ import annotations

from typing import Never

import pytest
from pydantic import SecretStr

from application.save_api_key import SaveApiKey
from domain.config import AppConfig
from domain.errors import CredentialRejected, InvalidApiKey, LockTimeout
from tests.fakes import FakeCloudApi, InMemoryConfigStore

GOOD = "bmc_abcdefgh12345678"
OTHER = "bmc_zyxwvuts87654321"


@pytest.mark.parametrize("raw", ["sk_abcdefgh1234", "bmc_short", "bmc_has space12", ""])
def test_an_invalid_key_is_refused_and_nothing_is_written(raw: str) -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(OTHER)))
    result = SaveApiKey(config, FakeCloudApi).execute(raw)
    assert isinstance(result.failure(), InvalidApiKey)
    assert config.writes == 0
    assert config.config.cloud_api_key == SecretStr(OTHER)


def test_save_strips_whitespace_and_stores_the_key() -> None:
    config = InMemoryConfigStore()
    saved = SaveApiKey(config, FakeCloudApi).execute(f"  {GOOD}\n").unwrap()
    assert saved.masked == "bmc_…5678"
    assert saved.replaced is None
    assert config.config.cloud_api_key == SecretStr(GOOD)


def test_overwriting_a_different_key_says_which_one_was_replaced() -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(OTHER)))
    saved = SaveApiKey(config, FakeCloudApi).execute(GOOD).unwrap()
    assert saved.replaced == "bmc_…4321"


def test_saving_the_same_key_again_is_unchanged() -> None:
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(GOOD)))
    assert SaveApiKey(config, FakeCloudApi).execute(GOOD).unwrap().unchanged


def test_verify_with_a_rejected_key_saves_nothing() -> None:
    config = InMemoryConfigStore()
    result = SaveApiKey(config, FakeCloudApi).execute(GOOD, verify=True)
    assert isinstance(result.failure(), CredentialRejected)
    assert config.config.cloud_api_key is None


def test_verify_with_an_accepted_key_saves_it() -> None:
    config = InMemoryConfigStore()
    SaveApiKey(config, lambda: FakeCloudApi(accepted={GOOD})).execute(GOOD, verify=True).unwrap()
    assert config.config.cloud_api_key == SecretStr(GOOD)


def test_a_storage_failure_is_reported() -> None:
    config = InMemoryConfigStore()
    config.broken = LockTimeout("/x/config.yaml", 10)
    assert SaveApiKey(config, FakeCloudApi).execute(GOOD).failure() == LockTimeout(
        "/x/config.yaml", 10
    )


def test_a_save_without_verify_never_builds_the_cloud_api() -> None:
    def no_cloud() -> Never:
        raise AssertionError("the cloud API was built")

    SaveApiKey(InMemoryConfigStore(), no_cloud).execute(GOOD).unwrap()
