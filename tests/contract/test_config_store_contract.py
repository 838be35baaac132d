"""ConfigStore contract: the in-memory fake and the YAML file adapter behave the same, the
adapter with its API key in files, in an in-memory keychain and in the real keychain (Debian's
gnome-keyring-daemon, tests/keychain_daemon.py; skipped loudly where it cannot start)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.keyring_vault import KeyringVault
from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig, Project
from domain.credential_store import CredentialStore, Moved
from domain.errors import AuthFailure, CorruptFile, ProjectExists
from domain.ports import ConfigStore, SecretVault
from domain.routing import ProjectMode
from tests.fakes import InMemoryConfigStore, InMemoryVault


@dataclass
class Harness:
    store: ConfigStore
    damage: Callable[[], None]
    # Where a newly written API key goes.
    home: CredentialStore = CredentialStore.FILE


def _fake() -> Harness:
    store = InMemoryConfigStore()

    def damage() -> None:
        store.broken = CorruptFile("fake config", "damaged")

    return Harness(store, damage)


def _real(tmp_path: Path, vault: SecretVault | None = None) -> Harness:
    """The YAML adapter; with a vault, the keychain store is chosen (by the environment)."""
    path = tmp_path / "config.yaml"

    def damage() -> None:
        path.write_bytes(b"projects: [unclosed\n")

    if vault is None:
        return Harness(YamlConfigStore(path, lock_timeout=2.0, vault=InMemoryVault()), damage)
    env = {"BASIC_MEMORY_CREDENTIAL_STORE": "keyring"}
    store = YamlConfigStore(path, lock_timeout=2.0, vault=vault, env=env)
    return Harness(store, damage, CredentialStore.KEYRING)


@pytest.fixture(params=["fake", "yaml-file", "yaml-file+keychain", "yaml-file+real-keychain"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "fake":
        return _fake()
    if request.param == "yaml-file":
        return _real(tmp_path)
    if request.param == "yaml-file+keychain":
        return _real(tmp_path, InMemoryVault())
    request.getfixturevalue("keychain")  # the real daemon, for in-process calls
    return _real(tmp_path, KeyringVault(f"bm-contract-config-{uuid.uuid4()}"))


def full_config() -> AppConfig:
    return AppConfig(
        cloud_api_key=SecretStr("bmc_abcdefgh1234"),
        cloud_host="https://cloud.example.com",
        cloud_domain="https://auth.example.com",
        cloud_client_id="client_1",
        projects={
            "notes": Project(path="/home/me/notes"),
            "research": Project(
                path="/home/me/research",
                mode=ProjectMode.CLOUD,
                extra={"sync": True, "tags": ["a", "b"]},
            ),
        },
        extra={"theme": "dark", "limits": {"max": 3, "ratio": 0.5}, "ünïcode": "✓"},
    )


def replace_with(
    config: AppConfig,
) -> Callable[[AppConfig], Result[tuple[AppConfig, None], AuthFailure]]:
    def change(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return Success((config, None))

    return change


def test_missing_config_loads_as_empty(harness: Harness) -> None:
    assert harness.store.load() == Success(AppConfig())


def test_update_then_load_round_trips_every_field(harness: Harness) -> None:
    assert harness.store.update(replace_with(full_config())) == Success((full_config(), None))

    loaded = harness.store.load().unwrap()

    assert loaded == full_config()
    assert loaded.cloud_api_key is not None
    assert loaded.cloud_api_key.get_secret_value() == "bmc_abcdefgh1234"
    assert loaded.projects["research"].extra == {"sync": True, "tags": ["a", "b"]}
    assert loaded.extra == full_config().extra


def test_update_sees_the_stored_config_and_applies_the_change(harness: Harness) -> None:
    harness.store.update(replace_with(full_config()))
    seen: list[AppConfig] = []

    def add_project(current: AppConfig) -> Result[tuple[AppConfig, tuple[str, ...]], AuthFailure]:
        seen.append(current)
        added = current.with_project("journal", "/home/me/journal")
        return added.map(lambda config: (config, current.project_names))

    result = harness.store.update(add_project)

    assert seen == [full_config()]
    assert result.unwrap()[0].project_names == ("journal", "notes", "research")
    # What the change found comes back with the config it made.
    assert result.unwrap()[1] == ("notes", "research")
    assert harness.store.load() == result.map(lambda answer: answer[0])


def test_removing_values_round_trips(harness: Harness) -> None:
    harness.store.update(replace_with(full_config()))
    emptied = full_config().model_copy(
        update={"cloud_api_key": None, "cloud_host": None, "projects": {}, "extra": {}}
    )

    harness.store.update(replace_with(emptied))

    assert harness.store.load() == Success(emptied)


def test_a_failing_change_leaves_the_config_as_it_was(harness: Harness) -> None:
    harness.store.update(replace_with(full_config()))

    def add_duplicate(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return current.with_project("notes", "/elsewhere").map(lambda config: (config, None))

    result = harness.store.update(add_duplicate)

    assert result == Failure(ProjectExists("notes", "/home/me/notes"))
    assert harness.store.load() == Success(full_config())


def test_returning_the_same_config_keeps_it(harness: Harness) -> None:
    harness.store.update(replace_with(full_config()))
    given: list[AppConfig] = []

    def keep(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        given.append(current)
        return Success((current, None))

    assert harness.store.update(keep).unwrap()[0] is given[0]
    assert harness.store.load() == Success(full_config())


def test_a_damaged_config_fails_and_the_change_is_not_called(harness: Harness) -> None:
    harness.damage()
    calls: list[AppConfig] = []

    def record(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        calls.append(current)
        return Success((full_config(), None))

    assert isinstance(harness.store.load().failure(), CorruptFile)
    assert isinstance(harness.store.update(record).failure(), CorruptFile)
    assert calls == []


def _other(store: CredentialStore) -> CredentialStore:
    return CredentialStore.FILE if store is CredentialStore.KEYRING else CredentialStore.KEYRING


def test_a_saved_key_is_kept_where_the_store_is_chosen(harness: Harness) -> None:
    harness.store.update(replace_with(full_config())).unwrap()

    assert harness.store.api_key_kept_in() == Success(harness.home)
    assert harness.store.load() == Success(full_config())


def test_the_key_moves_there_and_back_whole(harness: Harness) -> None:
    harness.store.update(replace_with(full_config())).unwrap()
    away = _other(harness.home)

    assert harness.store.move(away) == Success(Moved.MOVED)
    assert harness.store.api_key_kept_in() == Success(away)
    assert harness.store.load().unwrap().cloud_api_key == full_config().cloud_api_key
    assert harness.store.load().unwrap().credential_store == away.value
    assert harness.store.move(away) == Success(Moved.ALREADY_THERE)

    assert harness.store.move(harness.home) == Success(Moved.MOVED)
    assert harness.store.api_key_kept_in() == Success(harness.home)
    assert harness.store.load().unwrap().cloud_api_key == full_config().cloud_api_key


def test_moving_without_a_key_moves_nothing(harness: Harness) -> None:
    assert harness.store.move(CredentialStore.KEYRING) == Success(Moved.NOTHING)
    assert harness.store.api_key_kept_in() == Success(None)
    assert harness.store.load().unwrap().credential_store == "keyring"


def test_a_removed_key_is_gone_from_wherever_it_was(harness: Harness) -> None:
    harness.store.update(replace_with(full_config())).unwrap()
    harness.store.move(_other(harness.home)).unwrap()

    harness.store.update(lambda current: Success((current.with_api_key(None), None))).unwrap()

    assert harness.store.load().unwrap().cloud_api_key is None
    assert harness.store.api_key_kept_in() == Success(None)
