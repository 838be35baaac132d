"""ConfigStore contract: the in-memory fake and the YAML file adapter behave the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig, Project
from domain.errors import AuthFailure, CorruptFile, ProjectExists
from domain.ports import ConfigStore
from domain.routing import ProjectMode
from tests.fakes import InMemoryConfigStore


@dataclass
class Harness:
    store: ConfigStore
    damage: Callable[[], None]


def _fake() -> Harness:
    store = InMemoryConfigStore()

    def damage() -> None:
        store.broken = CorruptFile("fake config", "damaged")

    return Harness(store, damage)


def _real(tmp_path: Path) -> Harness:
    path = tmp_path / "config.yaml"

    def damage() -> None:
        path.write_bytes(b"projects: [unclosed\n")

    return Harness(YamlConfigStore(path, lock_timeout=2.0), damage)


@pytest.fixture(params=["fake", "yaml-file"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return _fake() if request.param == "fake" else _real(tmp_path)


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
